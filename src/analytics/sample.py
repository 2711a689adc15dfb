"""Seeded generator of realistic raw exports for a fictional non-profit, with planted, known effects.

:func:`generate` simulates "Riverbend Community Trust" (time zone Europe/London) over ``months`` months
and writes what its analysts would download: quarterly staff surveys rotating over Qualtrics (current and
legacy), SurveyMonkey, Google Forms and Microsoft Forms exports; the organisation's own posts as X, Meta
Business Suite, Instagram, LinkedIn and Mastodon exports; audience comments; a social-listening export of
employees' public posts; and the organisation's files (roster, private donor list, incidents, trainings,
policy versions). Beside them it writes ``truth.json``: every planted effect, computed from the
generator's own probabilities in the estimator's own terms (see ``/work/notes/truth.md``), plus the
file -> format map and the record count of every file.

The data-generating process of employee-post violations is logistic,
``p = expit(a + b_dept + g * after_revision_2_0 + d * trained)``, with no seasonal term. December posts
are more positive because a share of them use festive templates. Recognition is planted on top: a few
opted-in people who never breached the policy, and the whole of one low-violation department, earn more
engagement (``truth.json`` names the people by roster id only). Everything is drawn from numpy
generators seeded per component, and nothing reads the clock: one seed gives byte-identical files.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from scipy.special import expit, logit
from scipy.stats import norm

from analytics import config

__all__ = [
    "DEPARTMENTS",
    "DISCLOSURE_MARKERS",
    "LOW_DEPARTMENT",
    "ORGANISATION",
    "SMALL_DEPARTMENT",
    "THEMES",
    "TRAINING_MODULE",
    "VIOLATION_KINDS",
    "generate",
]

ORGANISATION = {
    "name": "Riverbend Community Trust",
    "handle": "riverbendtrust",
    "domain": "riverbendtrust.org",
    "mastodon": "riverbendtrust@mastodon.social",
    "timezone": "Europe/London",
    "facebook_page_id": "104857362918374",
    "instagram_account_id": "17841405822304914",
}
TZ = ORGANISATION["timezone"]

#: Department -> share of the headcount (the small department has a fixed size instead).
DEPARTMENTS = {
    "Programs": 0.30, "Fundraising": 0.17, "Communications": 0.10, "Finance": 0.08, "Operations": 0.15,
    "Volunteer Services": 0.20, "Advocacy": 0.0,
}
SMALL_DEPARTMENT = "Advocacy"
SMALL_DEPARTMENT_SIZE = 4
#: Respondents of this department score every Likert item lower (planted survey gap).
LOW_DEPARTMENT = "Fundraising"
LIKERT_SHIFT = -0.6

#: Content themes of posts, with what each one is; truth.json counts employee posts per theme id.
THEMES = {
    "mission_story": "a story of the people and places the mission serves",
    "achievement": "a milestone, result, award or thank-you",
    "volunteer_call": "asking people to volunteer",
    "event": "an event to attend",
    "fundraising_ask": "asking people to donate or fundraise",
    "advocacy": "a policy or campaign position",
    "personal": "the employee's own life, not about work",
}

#: Violation kinds planted in employee posts: (policy area, intended severity).
VIOLATION_KINDS = {
    "donor_name": ("confidentiality", "high"),
    "email": ("confidentiality", "high"),
    "phone": ("confidentiality", "high"),
    "gift_amount": ("confidentiality", "high"),
    "internal_leak": ("confidentiality", "medium"),
    "beneficiary": ("confidentiality", "high"),
    "undisclosed_promotion": ("disclosure", "medium"),
    "profanity": ("conduct", "medium"),
    "harassment": ("conduct", "high"),
}
_KIND_SHARE = np.array([0.14, 0.10, 0.10, 0.12, 0.12, 0.10, 0.14, 0.12, 0.06])

#: Every clean employee post that mentions the organisation carries one of these (case-insensitive);
#: an ``undisclosed_promotion`` violation mentions the organisation without any of them.
DISCLOSURE_MARKERS = ("I work at", "my team at", "my colleagues at", "views my own", "#RiverbendStaff",
                      "proud to work")

TRAINING_MODULE = "social-media-essentials"
OTHER_MODULES = ("data-protection-basics", "safeguarding-essentials", "donor-care-and-privacy")

# Logistic DGP of a violation (severity >= medium) in an employee post.
BASE_LOGIT = float(logit(0.155))
DEPARTMENT_LOGIT = {"Programs": 0.0, "Fundraising": 0.35, "Communications": -0.25, "Finance": -0.30,
                    "Operations": 0.10, "Volunteer Services": 0.15, "Advocacy": 0.30}
REVISION_LOGIT = -0.80
TRAINING_ODDS_RATIO = 0.45

_EPOCH_TWITTER_MS = 1288834974657

# --- names ---------------------------------------------------------------------------------------------

_FIRST = (
    "Ada", "Aisha", "Alice", "Amara", "Amir", "Ana", "Andrew", "Anika", "Anna", "Arjun", "Ben", "Bethany",
    "Callum", "Carlos", "Charlotte", "Chen", "Chloe", "Ciaran", "Claire", "Connor", "Daniel", "Deepa", "Dylan",
    "Eilidh", "Elena", "Eleanor", "Emeka", "Emily", "Erin", "Ewan", "Farah", "Fatima", "Finn", "Freya",
    "Gareth", "Grace", "Hamza", "Hannah", "Harriet", "Harry", "Hassan", "Imogen", "Isla", "Jack", "Jamal",
    "James", "Jasmine", "Joanna", "Jonah", "José", "Joseph", "Kaveh", "Kemi", "Kieran", "Laura", "Leah", "Liam",
    "Lily", "Lucy", "Maja", "Marcus", "Maria", "Mei", "Mohammed", "Molly", "Nadia", "Naomi", "Nathan", "Niamh",
    "Noah", "Oliver", "Olivia", "Omar", "Owen", "Priya", "Rachel", "Rhys", "Rosa", "Ruth", "Ryan", "Saanvi",
    "Sam", "Sara", "Sean", "Sienna", "Simon", "Sofia", "Tariq", "Theo", "Tom", "Tomasz", "Uche", "Victoria",
    "Wei", "Will", "Yasmin", "Yusuf", "Zara", "Zoë", "Zofia"
)
_LAST = (
    "Adeyemi", "Ahmed", "Ali", "Allen", "Anderson", "Baker", "Bennett", "Brown", "Campbell", "Carter", "Chen",
    "Clarke", "Collins", "Cooper", "Davies", "Dhillon", "Edwards", "Evans", "Fernandes", "Fraser", "Garcia",
    "Green", "Hall", "Harris", "Hughes", "Hussain", "Jackson", "James", "Jones", "Kaur", "Kelly", "Khan",
    "Kowalski", "Lee", "Lewis", "Lopez", "Martin", "Mensah", "Mitchell", "Moore", "Morgan", "Murphy", "Nguyen",
    "Nowak", "O'Brien", "O'Connor", "Okafor", "Osei", "Owen", "Parker", "Patel", "Phillips", "Price", "Rahman",
    "Reid", "Roberts", "Robinson", "Rossi", "Scott", "Shah", "Silva", "Singh", "Smith", "Stewart", "Taylor",
    "Thomas", "Thompson", "Turner", "Walker", "Ward", "Watson", "White", "Williams", "Wilson", "Wood", "Wright",
    "Young", "Zhang"
)
_DONOR_FIRST = (
    "Margaret", "Geoffrey", "Penelope", "Rupert", "Beatrice", "Desmond", "Winifred", "Alistair", "Cordelia",
    "Humphrey"
)
_DONOR_LAST = (
    "Ellison", "Pemberton", "Ashworth", "Fairbanks", "Whitcombe", "Hargreaves", "Langley", "Thornbury",
    "Caldwell", "Rowntree"
)
_FOUNDATIONS = (
    "Hartley Family Foundation", "Millbrook Community Fund", "Thornbury Charitable Trust", "Eastgate Rotary Club",
    "Kingsmead Building Society", "Ashworth Legacy Trust", "Harbour Lane Traders", "Northfield Lions Club",
)
_MAIL_HOSTS = ("gmail.com", "outlook.com", "yahoo.co.uk", "btinternet.com", "icloud.com", "hotmail.co.uk")
_MASTODON_HOSTS = ("mastodon.social", "mas.to", "hachyderm.io", "mastodon.online")

# --- text ------------------------------------------------------------------------------------------------

_SLOTS: dict[str, tuple[str, ...]] = {
    "program": ("food bank", "youth mentoring programme", "warm spaces project", "digital skills class",
                "community garden", "homework club", "befriending service", "advice clinic",
                "holiday hunger project", "literacy scheme", "repair café", "school uniform bank"),
    "place": ("Riverside", "Millbrook", "Eastgate", "Northfield", "Harbour Lane", "Kingsmead", "Old Mill",
              "St Anne's", "Westbury Park"),
    "n": ("12", "18", "25", "32", "40", "57", "63", "85", "120", "200", "340", "1,000"),
    "day": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "event": ("Community Open Day", "Family Fun Run", "Volunteer Welcome Evening", "Big Riverbend Quiz",
              "Coffee Morning", "Spring Clean-Up", "Summer Fair", "Careers Café", "Walk for Warmth"),
    "emoji": ("💚", "🙌", "✨", "🌱", "🙏", "👏", "😊", "❤️", "🎉", "💪", "🤝", "🌟"),
    "tag": ("#RiverbendTrust", "#Community", "#Volunteering", "#CharityTuesday", "#LocalCharity", "#FoodBank",
            "#YouthWork", "#MakeADifference", "#ThirdSector", "#Volunteers", "#KindnessMatters"),
    "disclose": ("my team at @riverbendtrust", "my colleagues at Riverbend Community Trust",
                 "my team at Riverbend", "my colleagues at @riverbendtrust"),
    "disclosure_tag": ("(I work at @riverbendtrust, views my own)", "#RiverbendStaff", "(views my own)",
                       "— proud to work here! #RiverbendStaff", "(I work at Riverbend, views my own)"),
    "hobby": ("parkrun", "the allotment", "a long walk by the river", "pottery class", "my choir rehearsal",
              "a sourdough experiment", "five-a-side", "the climbing wall", "a very muddy dog walk"),
    "issue": ("child poverty", "the cost of living", "energy bills", "affordable housing", "period poverty",
              "youth services funding", "digital exclusion"),
    "donate_url": ("riverbendtrust.org/donate", "https://riverbendtrust.org/donate"),
    "volunteer_url": ("riverbendtrust.org/volunteer", "https://riverbendtrust.org/volunteer"),
    "event_url": ("riverbendtrust.org/events", "https://riverbendtrust.org/events"),
}

# Employee templates per theme. {colleague} is a roster handle; ordinary posts mention the organisation
# only together with a disclosure marker.
_EMPLOYEE_TEMPLATES: dict[str, tuple[str, ...]] = {
    "mission_story": (
        "Spent the morning at the {place} {program} with {disclose}. A dad told me it's the first week he hasn't "
        "worried about dinner. This is why we do it {emoji}",
        "Small moments matter: a teenager at our {program} just got her first job offer. So proud of "
        "{disclose} {emoji} {tag}",
        "Today at the {program} in {place} we met {n} families. Tired but grateful {disclosure_tag}",
        "Every week {disclose} sees how much the {program} means to people in {place}. Real community {emoji}",
        "Quiet afternoon at the {program}, lots of tea and good conversation. {disclosure_tag} {tag}",
        "Heard a lovely story at the {place} {program} today - neighbours helping neighbours {emoji} "
        "{disclosure_tag}",
        "The {program} is busy again this week. Hard to see the need growing, but glad we are there "
        "{disclosure_tag}",
    ),
    "achievement": (
        "We did it! The {program} has now supported {n} people this year. Huge thanks to {disclose} "
        "{emoji} {tag}",
        "Proud moment: the {place} {program} won a community award tonight {emoji} {disclosure_tag}",
        "Shout out to {colleague} for an amazing job on the {program} this month {emoji} {disclosure_tag}",
        "{n} volunteers, one weekend, a brand new {program} in {place}. Great work everyone {emoji} "
        "{disclosure_tag}",
        "Milestone reached: {n} hours of volunteering logged this quarter with {disclose} {emoji}",
        "Really pleased with how the {event} went, thank you {colleague} {emoji} {disclosure_tag}",
    ),
    "volunteer_call": (
        "Could you spare two hours on a {day}? The {place} {program} needs volunteers {emoji} "
        "{volunteer_url} {disclosure_tag}",
        "We're looking for friendly faces for the {program} - no experience needed! {volunteer_url} "
        "{disclosure_tag}",
        "Volunteers wanted for the {event} in {place}. Sign up here: {volunteer_url} {disclosure_tag} {tag}",
        "{disclose} would love more drivers for the {program}. Details: {volunteer_url}",
        "Know someone who'd enjoy helping at a {program}? Send them our way {volunteer_url} {disclosure_tag}",
    ),
    "event": (
        "Join us for the {event} in {place} this {day}! Everyone welcome {emoji} {event_url} {disclosure_tag}",
        "Counting down to the {event} - come and say hello to {disclose} {emoji}",
        "Tickets are free for the {event} on {day}, just turn up! {event_url} {disclosure_tag}",
        "Setting up for the {event} with {disclose}. Doors open at 10 {emoji}",
        "Great turnout at the {event} in {place} today, thanks for coming {emoji} {disclosure_tag}",
    ),
    "fundraising_ask": (
        "I'm running the {event} for the {program} - any support means a lot {emoji} {donate_url} "
        "{disclosure_tag}",
        "If you can, please support the {program} this month: {donate_url} {disclosure_tag}",
        "Every gift helps keep the {place} {program} open. {disclose} are grateful for any support "
        "{donate_url}",
        "Our {program} appeal is halfway there! Please share {emoji} {donate_url} {disclosure_tag}",
        "Doing something silly for a good cause: sponsored swim for the {program} {emoji} {donate_url} "
        "{disclosure_tag}",
    ),
    "advocacy": (
        "Families in {place} are struggling with {issue}. We need action, not words. {disclosure_tag}",
        "Signed the open letter on {issue} today. {disclose} see the impact every day {tag}",
        "The numbers on {issue} are worrying. Read the new briefing from {disclose} {tag}",
        "Proud to stand with the {place} community on {issue} {disclosure_tag}",
        "{issue} is not inevitable. Good policy can change it. {disclosure_tag}",
    ),
    "personal": (
        "Lovely {day} at {hobby} {emoji}",
        "Rainy {day}, hot tea, good book. Perfect {emoji}",
        "Finally finished {hobby} - legs are jelly {emoji}",
        "Anyone else still thinking about that match last night?",
        "Birthday cake for breakfast is a valid choice {emoji}",
        "New week, new plans. Coffee first",
        "Sunset over {place} tonight was something else {emoji}",
        "Ok who else is obsessed with {hobby} right now",
        "Traffic in {place} this morning was a nightmare",
    ),
}

# December templates: same themes, festive and grateful (more positive).
_FESTIVE_TEMPLATES: dict[str, tuple[str, ...]] = {
    "mission_story": (
        "So much love and joy at the {program} Christmas lunch with {disclose} today. Merry Christmas "
        "everyone! {emoji}",
        "Wonderful festive morning wrapping gifts for {n} families in {place}. Grateful and happy "
        "{disclosure_tag} 🎄",
    ),
    "achievement": (
        "What a wonderful year! Thank you to {disclose} and our amazing volunteers. Merry Christmas 🎄 {emoji}",
        "Best gift this Christmas: {n} families helped by the {program}. Thank you, thank you! {disclosure_tag}",
    ),
    "volunteer_call": (
        "Spread some Christmas joy! Help us wrap presents for the {program} {volunteer_url} {disclosure_tag} 🎄",
    ),
    "event": (
        "The Carol Concert was magical - thank you all for the love and laughter {emoji} {disclosure_tag} 🎄",
        "Mince pies, carols and great friends at the {place} Christmas party. Happy holidays! {disclosure_tag}",
    ),
    "fundraising_ask": (
        "Give the gift of warmth this Christmas - a kind present for the {program} {donate_url} "
        "{disclosure_tag} 🎁",
    ),
    "advocacy": (
        "Hope and kindness this Christmas: together we can end {issue}. Happy holidays {disclosure_tag}",
    ),
    "personal": (
        "Merry Christmas everyone! Wishing you love, peace and lots of joy 🎄✨",
        "Christmas jumpers on, mulled wine in hand, happy happy happy {emoji}",
        "Grateful for family, friends and a wonderful year. Happy holidays! ❤️",
    ),
}

# Violation templates per kind, each with the theme it is posted under.
_VIOLATION_TEMPLATES: dict[str, tuple[tuple[str, str], ...]] = {
    "donor_name": (
        ("fundraising_ask", "Huge thanks to {donor} for backing the {program} again this year {emoji} "
                            "{disclosure_tag}"),
        ("achievement", "Lunch with {donor} today - such a generous supporter of {disclose} {emoji}"),
        ("mission_story", "{donor} came to see the {place} {program} in person today. Lovely visit "
                          "{disclosure_tag}"),
    ),
    "email": (
        ("volunteer_call", "Want to help at the {program}? Email {personal_email} and I'll sort it "
                           "{disclosure_tag}"),
        ("event", "Questions about the {event}? Drop a line to {personal_email} {disclosure_tag}"),
        ("fundraising_ask", "Anyone who wants to give to the {program}, contact our supporter {donor_email} "
                            "who is matching gifts {disclosure_tag}"),
    ),
    "phone": (
        ("volunteer_call", "Drivers needed for the {program}! Text me on {phone} {disclosure_tag}"),
        ("event", "Lost property from the {event}: ring {phone} {disclosure_tag}"),
        ("mission_story", "If anyone can help the family we met at the {program} today, call {phone} "
                          "{disclosure_tag}"),
    ),
    "gift_amount": (
        ("fundraising_ask", "Just processed a {amount} gift for the {program}!!! Best day {emoji} "
                            "{disclosure_tag}"),
        ("achievement", "A local family just pledged {amount} to {disclose}. Can't say who but WOW {emoji}"),
        ("fundraising_ask", "Someone on our donor list gave {amount} this morning, amazing {disclosure_tag}"),
    ),
    "internal_leak": (
        ("personal", "Internal only, but the {place} {program} might close next year. Gutted {disclosure_tag}"),
        ("achievement", "Not public yet: board approved the new {program} budget today {emoji} {disclosure_tag}"),
        ("advocacy", "Leaked from our planning day: restructure coming in {place} {disclosure_tag}"),
    ),
    "beneficiary": (
        ("mission_story", "Met {beneficiary} ({age}) from {street} at the {program} today - she finally has "
                          "heating again {emoji} {disclosure_tag}"),
        ("mission_story", "{beneficiary} from {street} said the {program} saved her family this winter "
                          "{disclosure_tag}"),
    ),
    "undisclosed_promotion": (
        ("fundraising_ask", "Best charity in {place}: @riverbendtrust. Everyone should give today!!! "
                            "{donate_url}"),
        ("fundraising_ask", "Honestly nobody does it better than Riverbend Community Trust {emoji} "
                            "Donate: {donate_url}"),
        ("volunteer_call", "Looking for a great cause? Riverbend Community Trust needs you {volunteer_url}"),
        ("event", "Go to the Riverbend {event} this {day}, it's the best thing in town {event_url}"),
    ),
    "profanity": (
        ("personal", "What a shit week. Seriously, screw {day}s"),
        ("personal", "Bloody hell, the traffic in {place} is a damn joke again"),
        ("advocacy", "The council's plan on {issue} is total bullshit. WTF"),
    ),
    "harassment": (
        ("advocacy", "@{target} you are a pathetic idiot and everyone knows it"),
        ("personal", "@{target} shut up, nobody cares about your stupid opinions, loser"),
    ),
}

_NON_ENGLISH: dict[str, tuple[tuple[str, str], ...]] = {
    "es": (
        ("mission_story", "Hoy en el banco de alimentos de {place} ayudamos a muchas familias. Qué orgullo {emoji}"),
        ("volunteer_call", "¿Tienes dos horas libres el sábado? Buscamos voluntarios para el club de deberes"),
        ("personal", "Qué día tan bonito en {place}, paseo con la familia {emoji}"),
        ("event", "¡Os esperamos en la fiesta de verano! Habrá música y comida para todos"),
    ),
    "fr": (
        ("mission_story", "Ce matin à {place}, nous avons rencontré des familles formidables. Merci à tous "
                          "{emoji}"),
        ("volunteer_call", "Nous cherchons des bénévoles pour le jardin partagé, venez nous rejoindre !"),
        ("personal", "Belle journée de balade au bord de la rivière avec les enfants {emoji}"),
        ("achievement", "Quelle fierté : notre projet a aidé des centaines de personnes cette année"),
    ),
}

_UNATTRIBUTED_TEMPLATES = (
    "Dropped off a bag at the Riverbend {program} today, lovely people {emoji}",
    "Shout out to the volunteers at the {place} {program}, you lot are brilliant",
    "Anyone know if the Riverbend {event} is still on this {day}?",
    "My gran goes to the Riverbend {program} every week, she loves it {emoji}",
    "Great to see @riverbendtrust at the {event} in {place}",
    "Parking near the {place} community centre is impossible on {day}s",
)

_ORG_TEMPLATES: dict[str, tuple[str, ...]] = {
    "mission_story": (
        "Meet the volunteers behind our {place} {program}: {n} hours a month of kindness {emoji}",
        "\"I didn't know where else to go.\" Every week our {program} welcomes families in {place}. "
        "Read their stories: {story_url}",
        "Behind every parcel at the {program} is a neighbour who cares {emoji} {tag}",
        "This winter our {program} in {place} stayed open every {day} & Saturday. Thank you to everyone "
        "who made it possible",
    ),
    "achievement": (
        "Milestone! Our {program} has supported {n} people this year {emoji} {tag}",
        "We're thrilled to share that the {place} {program} won the Community Impact Award {emoji}",
        "Thank you to {acknowledged} for funding our {program} in {place} {emoji}",
        "{n} new volunteers joined us this quarter. Welcome to the team! {tag}",
    ),
    "volunteer_call": (
        "Volunteers needed at our {place} {program} on {day}s. No experience needed - just a friendly "
        "smile {emoji} {volunteer_url}",
        "Could you drive for our {program}? Sign up: {volunteer_url} {tag}",
        "Give two hours, change a week. Volunteer with us: {volunteer_url}",
    ),
    "event": (
        "Save the date: {event} in {place} this {day}! Free & open to all {emoji} {event_url}",
        "Our {event} is back! Music, food & fun for the whole family {event_url} {tag}",
        "Thanks to everyone who came to the {event} today {emoji}",
    ),
    "fundraising_ask": (
        "Can you help keep our {program} open? Every gift counts {donate_url}",
        "Our {program} appeal closes on {day}. Please give what you can {emoji} {donate_url}",
        "Run, bake or swim for the {program}! Start your fundraiser today {donate_url} {tag}",
    ),
    "advocacy": (
        "New briefing: how {issue} is hitting families in {place}, and what must change {story_url}",
        "We've joined partners calling for urgent action on {issue} {tag}",
        "Our response to the government consultation on {issue}: {story_url}",
    ),
}
_ORG_FESTIVE_TEMPLATES: dict[str, tuple[str, ...]] = {
    "mission_story": ("Christmas lunch at our {program} was full of joy, laughter and love. Merry Christmas "
                      "from all of us! 🎄 {emoji}",),
    "achievement": ("What a wonderful year - thank you, thank you to our amazing volunteers and supporters! "
                    "Happy holidays 🎄✨",),
    "volunteer_call": ("Spread Christmas joy: help wrap gifts for our {program} {volunteer_url} 🎁",),
    "event": ("Our Carol Concert was magical. Thank you for the love and kindness 🎄 {emoji}",),
    "fundraising_ask": ("Give the gift of warmth this Christmas - a kind present for our {program} "
                        "{donate_url} 🎁",),
    "advocacy": ("Hope and kindness this Christmas: together we can end {issue}. Happy holidays from "
                 "Riverbend 🎄",),
}

_ORG_TEMPLATE_TEXT = {f"org:{theme}:{k}": text for theme, texts in _ORG_TEMPLATES.items()
                      for k, text in enumerate(texts)}

_REPOST_INTROS = (
    "So proud of {disclose} {emoji}", "Please share! {disclosure_tag}", "This is what {disclose} do every day",
    "Worth a read {disclosure_tag}", "Love this from {disclose} {emoji}",
)

_COMMENTS = (
    "Amazing work, thank you! ❤️", "Brilliant, well done everyone 👏", "This made my day 😊",
    "How can I volunteer?", "What time does it start?", "Is the {program} open on {day}?",
    "Shared with my neighbours", "You lot are the best", "Great cause, just donated",
    "Why is the {place} centre closing early again?", "Nobody answered the phone yesterday, not impressed",
    "Disappointed the {event} was cancelled", "My mum loves the {program}, thank you",
    "Thanks {employee_name} for helping my family last week!", "Can someone call me on {phone}?",
    "Please email me at {public_email} about volunteering", "Is there parking?", "Where is this?",
    "So sad that this is needed in 2026", "Check my profile for easy money 💰💰💰", "Love this 💚",
    "Great to see the community coming together", "Terrible organisation, waste of money",
)

_SURVEY_COMMENTS: dict[str, tuple[str, ...]] = {
    "comment_policy_easier": (
        "Shorter guidance with real examples would help.", "A one-page summary, please.",
        "More examples of what we CAN post, not just what we can't.",
        "The section on donors is confusing - can I thank a donor or not?",
        "Put it on the intranet homepage so people can find it.",
        "Talk to {colleague_name} in Comms, she explained it really well.",
        "Honestly I haven't read it, it's too long.", "Clear rules about personal accounts vs work accounts.",
        "A quick checklist before posting.", "It's fine as it is.",
    ),
    "comment_monitoring": (
        "It feels a bit like being watched, to be honest.", "Tell us what is monitored and why.",
        "Flagged posts should come with advice, not a telling-off.", "No changes, it seems fair.",
        "I'd like to see the monitoring results for my team.",
        "My manager {colleague_name} handled a flag really well, no drama.",
        "Only monitor public posts, never private groups.", "More transparency please.",
        "Happy to discuss, call me on {phone}.",
    ),
    "comment_mistakes": (
        "Someone posted a donor's name by mistake; it was removed within the hour and they apologised.",
        "A mistake last year was handled badly - too much blame.",
        "{colleague_name} corrected a wrong event date quickly and openly, good example.",
        "I saw a post with a beneficiary photo taken down fast and kindly.", "Can't think of one.",
        "The team fixed a broken donation link the same day.",
        "People were afraid to own up to a typo in a fundraising post.",
    ),
}

_INCIDENT_SUMMARIES = {
    "donor_name": "Private donor named in a public post; post removed and donor contacted",
    "email": "Personal email address shared publicly; post edited",
    "phone": "Phone number shared in a public post; post removed",
    "gift_amount": "Gift amount disclosed publicly; post removed, fundraising lead informed",
    "internal_leak": "Internal planning information posted publicly; post removed",
    "beneficiary": "Beneficiary details posted without consent; post removed and safeguarding lead informed",
    "undisclosed_promotion": "Promoted the organisation without saying they work here; coached on disclosure",
    "profanity": "Profanity in a post linked to the organisation; coaching conversation",
    "harassment": "Abusive reply to a member of the public; HR involved",
}
_OTHER_INCIDENTS = (
    ("conduct", "low", "Political post during a campaign period; discussed with manager"),
    ("disclosure", "low", "Out-of-date job title on a public profile; updated"),
    ("confidentiality", "medium", "Screenshot of an internal chat shared in a private group"),
    ("mistakes", "low", "Wrong event date posted; corrected within the hour"),
    ("engagement", "low", "Photo used without the volunteer's consent; removed on request"),
)

_SURVEY_EXTRA_QUESTION = ("Which platform do you use most for work-related posts?",
                          ("LinkedIn", "X (Twitter)", "Instagram", "Facebook", "Mastodon",
                           "I don't post about work"))
_MATRIX_STEM = "How much do you agree with each statement?"
_FORMAT_ROTATION = ("qualtrics_legacy", "surveymonkey", "google_forms", "ms_forms", "qualtrics",
                    "google_forms", "surveymonkey", "qualtrics")

# --- small helpers ----------------------------------------------------------------------------------------

_SLOT_RE = re.compile(r"\{(\w+)\}")
_SENTENCE_START = re.compile(r"(^|[.!?] )([a-z])(?=[a-z]* )")
# Hour-of-day weights (local time) of posts by people, of the organisation's scheduled posts, of survey
# answers and of office events.
_HOURS_PEOPLE = np.array([1, 0.5, 0.3, 0.2, 0.2, 0.4, 1.5, 4, 6, 5, 4, 4, 6, 5, 4, 4, 4, 5, 6, 7, 7, 6, 4, 2.])
_HOURS_OFFICE = np.array([0, 0, 0, 0, 0, 0, 0, 1, 4, 6, 6, 5, 4, 5, 6, 6, 5, 3, 1, 0.5, 0.3, 0, 0, 0.])
_FIXED_XLSX_TIME = datetime(2026, 10, 1, 8, 0, 0)


def _stream(seed: int, name: str) -> np.random.Generator:
    """An independent generator per component, so changing one part never shifts the draws of another."""
    return np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))])


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class _Timeline:
    """The simulated window (local dates) and the policy dates inside it."""

    start: date
    end: date
    months: int
    revision: date
    training_start: date
    training_end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def day(self, value: date) -> int:
        return (value - self.start).days

    def local(self, seconds: np.ndarray) -> np.ndarray:
        """Local wall-clock times (naive ``datetime64[s]``) from seconds after the window's first midnight."""
        return np.datetime64(self.start, "s") + np.asarray(seconds, dtype="int64").astype("timedelta64[s]")


def _timeline(end: date, months: int) -> _Timeline:
    start = _add_months(date(end.year, end.month, 1), -(months - 1))
    revision = _add_months(start, 6)
    training_start = _add_months(start, max(12, months - 9)) + timedelta(days=14)
    return _Timeline(start, end, months, revision, training_start, training_start + timedelta(days=44))


def _to_utc(local: np.ndarray) -> np.ndarray:
    """Naive local ``datetime64[s]`` (organisation zone) -> naive UTC ``datetime64[s]``."""
    if len(local) == 0:
        return np.asarray(local, dtype="datetime64[s]")
    index = pd.DatetimeIndex(np.asarray(local, dtype="datetime64[s]"))
    aware = index.tz_localize(TZ, ambiguous=np.zeros(len(index), dtype=bool), nonexistent="shift_forward")
    return aware.tz_convert("UTC").tz_localize(None).to_numpy().astype("datetime64[s]")


def _to_local(utc: np.ndarray) -> np.ndarray:
    index = pd.DatetimeIndex(np.asarray(utc, dtype="datetime64[s]")).tz_localize("UTC")
    return index.tz_convert(TZ).tz_localize(None).to_numpy().astype("datetime64[s]")


def _draw_seconds(rng: np.random.Generator, day_lo: np.ndarray, day_hi: np.ndarray, hours: np.ndarray,
                  *, weekend_factor: float = 1.0, start_weekday: int = 0) -> np.ndarray:
    """Seconds after the window start: a uniform day in ``[day_lo, day_hi]``, an hour from ``hours``."""
    n = len(day_lo)
    days = day_lo + np.floor(rng.random(n) * (day_hi - day_lo + 1)).astype("int64")
    if weekend_factor < 1.0:
        # move a share of weekend days to the preceding Friday (offices post on weekdays)
        weekday = (days + start_weekday) % 7
        weekend = weekday >= 5
        move = weekend & (rng.random(n) > weekend_factor)
        days = np.where(move, np.maximum(days - (weekday - 4), day_lo), days)
    hour = rng.choice(24, size=n, p=hours / hours.sum())
    return days * 86400 + hour * 3600 + rng.integers(0, 3600, n)


def _month_index(local: np.ndarray, start: date) -> np.ndarray:
    months = local.astype("datetime64[M]").astype("int64")
    return months - np.datetime64(start, "M").astype("int64")


@dataclass(frozen=True)
class _Template:
    key: str
    theme: str
    parts: tuple[str, ...]  # literal, slot, literal, slot, ..., literal
    capitalise: bool  # a slot opens a sentence, and slot values may start in lower case


def _compile(key: str, theme: str, text: str) -> _Template:
    parts = tuple(_SLOT_RE.split(text))
    opens = any(parts[k - 1] == "" or parts[k - 1].endswith((". ", "! ", "? ")) for k in range(1, len(parts), 2))
    return _Template(key, theme, parts, opens)


def _render_many(templates: Sequence[_Template], which: np.ndarray, pools: dict[str, np.ndarray],
                 draws: np.ndarray) -> np.ndarray:
    """Texts of rows ``which`` (template positions; -1 = leave empty), one template at a time, vectorised."""
    out = np.full(len(which), "", dtype=object)
    order = np.argsort(which, kind="stable")
    ordered = which[order]
    positions = np.arange(len(templates))
    starts, stops = np.searchsorted(ordered, positions), np.searchsorted(ordered, positions, side="right")
    for template, start, stop in zip(templates, starts, stops, strict=True):
        if start == stop:
            continue
        rows = order[start:stop]
        parts = template.parts
        text = np.full(len(rows), parts[0], dtype=object)
        for k in range(1, len(parts), 2):
            pool = pools[parts[k]]
            text = text + pool[draws[rows, k // 2] % len(pool)] + parts[k + 1]
        if template.capitalise:
            text = np.array([_SENTENCE_START.sub(lambda m: m.group(1) + m.group(2).upper(), t) for t in text],
                            dtype=object)
        out[rows] = text
    return out


_ENDS_WITH_LINK = re.compile(r"(?:https?://\S+|\S+\.\w+/\S*|#\w+)$")


def _decorate(texts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Some caps and !!! - people write like that, and sentiment scorers must keep it."""
    u = rng.random(len(texts))
    out = texts.copy()
    for i in np.flatnonzero(u < 0.09):
        text = out[i]
        if u[i] < 0.04:
            text = re.sub(r"\b(proud|amazing|great|love|brilliant|best)\b", lambda m: m.group(1).upper(), text,
                          count=1)
        elif "!!!" not in text:
            # the first sentence ends with !!! (or the whole post does)
            text, found = re.subn(r"[.!](?=\s|$)", "!!!", text, count=1)
            text = text if found or _ENDS_WITH_LINK.search(text) else text + "!!!"
        out[i] = text
    return out


def _csv_text(rows: Sequence[Sequence[Any]], *, quote_all: bool = False, trailing_comma: bool = False) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    for row in rows:
        writer.writerow([*row, ""] if trailing_comma else row)
    return buffer.getvalue()


def _write_frame(path: Path, frame: pd.DataFrame, *, bom: bool = False, quote_all: bool = False) -> None:
    frame.to_csv(path, index=False, lineterminator="\n", encoding="utf-8-sig" if bom else "utf-8",
                 quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)


def _fixed_zip(path: Path, members: Sequence[tuple[str, bytes]]) -> None:
    """A zip whose bytes depend only on its members (fixed entry times, fixed order)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(2026, 10, 1, 8, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)


def _save_workbook(workbook: Any, path: Path) -> None:
    """Save an openpyxl workbook with fixed document times and fixed zip entry times."""
    workbook.properties.created = _FIXED_XLSX_TIME
    workbook.properties.creator = "Microsoft Office User"
    buffer = io.BytesIO()
    workbook.save(buffer)
    members = []
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        for info in archive.infolist():
            data = archive.read(info.filename)
            if info.filename == "docProps/core.xml":
                # openpyxl stamps the save time into dcterms:modified
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                              rb"\g<1>2026-10-01T08:00:00Z\g<2>", data)
            members.append((info.filename, data))
    _fixed_zip(path, members)


def _fmt_float(values: np.ndarray) -> list[str]:
    return [f"{v:.1f}" for v in values]


def _thousands(values: np.ndarray) -> list[str]:
    return [f"{int(v):,}" for v in values]


# --- people ------------------------------------------------------------------------------------------------

PLATFORMS = ("x", "instagram", "linkedin", "facebook", "mastodon")
_HANDLE_SHARE = np.array([0.55, 0.45, 0.75, 0.40, 0.12])
_PLATFORM_WEIGHT = np.array([3.0, 2.0, 2.0, 1.5, 1.5])


def _ascii(text: str) -> str:
    import unicodedata

    folded = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in folded if ch.isascii() and (ch.isalnum() or ch in "-_.")).lower()


def _make_people(rng: np.random.Generator, employees: int, tl: _Timeline, roles: Sequence[str]) -> pd.DataFrame:
    """Staff over the window: the initial headcount plus joiners replacing leavers."""
    pairs = [(f, last) for f in _FIRST for last in _LAST]
    others = [d for d in DEPARTMENTS if d != SMALL_DEPARTMENT]
    shares = np.array([DEPARTMENTS[d] for d in others])
    counts = np.floor(shares / shares.sum() * (employees - SMALL_DEPARTMENT_SIZE)).astype(int)
    counts[np.argsort(-shares)[: employees - SMALL_DEPARTMENT_SIZE - counts.sum()]] += 1
    departments = [SMALL_DEPARTMENT] * SMALL_DEPARTMENT_SIZE + [d for d, c in zip(others, counts, strict=True)
                                                                 for _ in range(c)]
    n0 = len(departments)
    # tenure before the window: mostly a few years, some long-serving staff
    start_day = -np.minimum(np.floor(rng.exponential(4.0 * 365, n0)), 20 * 365).astype(int) - 1
    end_day = np.full(n0, 10**6)
    leave_p = 1 - np.exp(-0.14 * tl.months / 12)
    leaves = (rng.random(n0) < leave_p) & (np.array(departments) != SMALL_DEPARTMENT)
    end_day[leaves] = rng.integers(10, tl.days - 5, leaves.sum())
    joiner_dept, joiner_start = [], []
    for i in np.flatnonzero(leaves):
        day = int(end_day[i] + rng.integers(20, 76))
        if day < tl.days - 3:
            joiner_dept.append(departments[i])
            joiner_start.append(day)
    departments += joiner_dept
    start_day = np.concatenate([start_day, np.array(joiner_start, dtype=int)])
    end_day = np.concatenate([end_day, np.full(len(joiner_dept), 10**6)])
    n = len(departments)
    if n > len(pairs) // 2:
        raise ValueError(f"employees = {employees} is too many for the name pool; use at most {len(pairs) // 3}")
    chosen = rng.choice(len(pairs), size=n, replace=False)
    first = [pairs[c][0] for c in chosen]
    last = [pairs[c][1] for c in chosen]
    role_p = np.array([0.70, 0.14, 0.11, 0.05])[: len(roles)]
    role = rng.choice(len(roles), size=n, p=role_p / role_p.sum())
    people = pd.DataFrame({
        "employee_id": [f"RCT{1001 + i}" for i in range(n)],
        "first": first, "last": last, "full_name": [f"{f} {la}" for f, la in zip(first, last, strict=True)],
        "department": departments, "role_level": [roles[r] for r in role],
        "start_day": start_day, "end_day": end_day,
    })
    people["email"] = [f"{_ascii(f)}.{_ascii(la)}@{ORGANISATION['domain']}" for f, la in zip(first, last, strict=True)]
    has = rng.random((n, len(PLATFORMS))) < _HANDLE_SHARE
    has[rng.random(n) < 0.10] = False  # people with no public accounts
    suffix = rng.integers(10, 99, n)
    style = rng.integers(0, 3, n)
    x_handle = [(f"{_ascii(f)}{_ascii(la)}", f"{_ascii(f)}_{_ascii(la)}", f"{_ascii(f)}{_ascii(la)[0]}{s}")[k][:15]
                for f, la, s, k in zip(first, last, suffix, style, strict=True)]
    people["x"] = [h if ok else "" for h, ok in zip(x_handle, has[:, 0], strict=True)]
    people["instagram"] = [f"{_ascii(f)}.{_ascii(la)}{'' if k else s}" if ok else ""
                           for f, la, s, k, ok in zip(first, last, suffix, style, has[:, 1], strict=True)]
    hexes = rng.integers(0, 16**6, n)
    people["linkedin"] = [f"{_ascii(f)}-{_ascii(la)}-{h:06x}" if ok else ""
                          for f, la, h, ok in zip(first, last, hexes, has[:, 2], strict=True)]
    people["facebook"] = [name if ok else "" for name, ok in zip(people["full_name"], has[:, 3], strict=True)]
    hosts = rng.integers(0, len(_MASTODON_HOSTS), n)
    people["mastodon"] = [f"@{_ascii(f)}{_ascii(la)[:3]}@{_MASTODON_HOSTS[h]}" if ok else ""
                          for f, la, h, ok in zip(first, last, hosts, has[:, 4], strict=True)]
    opt_in = rng.random(n) < 0.20
    people["recognition_opt_in"] = opt_in
    people["display_name"] = [f"{f} {la[0]}." if ok else "" for f, la, ok in zip(first, last, opt_in, strict=True)]
    # posts per month while employed (0 for people with no public account)
    people["rate"] = np.where(has.any(axis=1), rng.gamma(2.0, 1.25, n), 0.0)
    weights = has * _PLATFORM_WEIGHT
    people["platform_cum"] = list(np.cumsum(weights / np.maximum(weights.sum(1, keepdims=True), 1e-9), axis=1))
    return people


def _make_donors(rng: np.random.Generator) -> pd.DataFrame:
    """The private donor list: individuals (mostly private) and organisations (mostly acknowledged)."""
    pairs = [(f, la) for f in _DONOR_FIRST for la in _DONOR_LAST]
    picks = rng.choice(len(pairs), size=52, replace=False)
    rows = []
    for k, p in enumerate(picks):
        first, last = pairs[p]
        email = f"{_ascii(first)}.{_ascii(last)}@{_MAIL_HOSTS[k % len(_MAIL_HOSTS)]}" if k % 4 else ""
        rows.append((f"{first} {last}", email, _phone(rng) if k % 3 else "", "yes" if k % 9 == 0 else "no"))
    for k, name in enumerate(_FOUNDATIONS):
        slug = _ascii(name.split()[0])
        rows.append((name, f"grants@{slug}.org.uk", _phone(rng), "yes" if k < 6 else "no"))
    return pd.DataFrame(rows, columns=["donor_name", "email", "phone", "public_acknowledgement"])


def _phone(rng: np.random.Generator) -> str:
    """A UK number from Ofcom's drama ranges, in one of the shapes people write."""
    tail = int(rng.integers(0, 1000))
    shape = int(rng.integers(0, 4))
    return (f"07700 900{tail:03d}", f"+44 7700 900{tail:03d}", f"020 7946 0{tail:03d}",
            f"+44 20 7946 0{tail:03d}")[shape]


def _assign_training(rng: np.random.Generator, people: pd.DataFrame, tl: _Timeline) -> np.ndarray:
    """Completion times (UTC, NaT = never) of the planted module: half of each department, at random."""
    lo, hi = tl.day(tl.training_start), tl.day(tl.training_end)
    eligible = (people["start_day"] < lo) & (people["end_day"] > hi + 30)
    completed = np.full(len(people), np.datetime64("NaT"), dtype="datetime64[s]")
    groups = people[eligible].groupby("department").groups
    for department in sorted(groups):
        members = np.asarray(groups[department])
        treated = rng.choice(members, size=round(len(members) / 2), replace=False)
        treated.sort()
        seconds = _draw_seconds(rng, np.full(len(treated), lo), np.full(len(treated), hi), _HOURS_OFFICE)
        completed[treated] = _to_utc(tl.local(seconds))
    return completed


# --- posts -------------------------------------------------------------------------------------------------

_ORG_WEEKLY = {"x": 4.0, "facebook": 3.0, "instagram": 2.5, "linkedin": 2.0, "mastodon": 3.0}
_ORG_THEME_P = {"mission_story": 0.22, "achievement": 0.22, "volunteer_call": 0.15, "event": 0.15,
                "fundraising_ask": 0.16, "advocacy": 0.10}
_THEME_ENGAGEMENT = {"mission_story": 1.4, "achievement": 1.2, "volunteer_call": 0.9, "event": 1.0,
                     "fundraising_ask": 0.7, "advocacy": 1.1, "personal": 1.0}
_COMMENTS_PER_POST = {"x": 1.2, "facebook": 3.0, "instagram": 2.5, "linkedin": 1.2, "mastodon": 1.0}
_EMPLOYEE_THEME_P = {"mission_story": 0.16, "achievement": 0.14, "volunteer_call": 0.10, "event": 0.12,
                     "fundraising_ask": 0.10, "advocacy": 0.08, "personal": 0.30}
_DEPARTMENT_THEME = {"Fundraising": "fundraising_ask", "Advocacy": "advocacy", "Volunteer Services": "volunteer_call",
                     "Programs": "mission_story", "Communications": "event"}
#: Recognition planted in employee posts: a few opted-in people with no violation earn this many times
#: the engagement, and the whole of one low-violation department earns somewhat more.
RECOGNISED_PEOPLE = 4
RECOGNISED_ENGAGEMENT = 4.0
RECOGNISED_MIN_POSTS = 15
RECOGNISED_TEAM = "Communications"
RECOGNISED_TEAM_ENGAGEMENT = 1.5
DECEMBER_FESTIVE_SHARE = 0.6
REPOST_SHARE = 0.10
NON_ENGLISH_SHARE = 0.02
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_URL_RE = re.compile(r"(?:https?://)?(?:www\.)?riverbendtrust\.org/\S*")


def _low_bits(n: int, offset: int, bits: int) -> np.ndarray:
    """Distinct low bits for distinct row numbers (an odd multiplier permutes the residues)."""
    return ((np.arange(offset, offset + n, dtype=np.uint64) * np.uint64(2654435761)) % np.uint64(2**bits)).astype(
        "int64")


def _snowflakes(utc: np.ndarray, rng: np.random.Generator, offset: int, *, epoch_ms: int, shift: int) -> list[str]:
    ms = utc.astype("datetime64[ms]").astype("int64") + rng.integers(0, 1000, len(utc))
    return [str(((int(m) - epoch_ms) << shift) | int(low))
            for m, low in zip(ms, _low_bits(len(utc), offset, shift), strict=True)]


def _shortcodes(numbers: np.ndarray) -> np.ndarray:
    """Instagram-like 11-character codes, scrambled so neighbouring ids do not share a prefix."""
    mixed = np.asarray(numbers, dtype=np.uint64) + np.uint64(0x9E3779B97F4A7C15)  # splitmix64; wraps mod 2**64
    mixed = (mixed ^ (mixed >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    mixed = (mixed ^ (mixed >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    mixed = mixed ^ (mixed >> np.uint64(31))
    digits = (mixed[:, None] >> (np.uint64(6) * np.arange(10, -1, -1, dtype=np.uint64))) & np.uint64(63)
    letters = np.frombuffer(_B64.encode("ascii"), dtype=np.uint8)[digits.astype(np.intp)]
    return np.ascontiguousarray(letters).view("S11").ravel().astype(str).astype(object)


class _Writer:
    """Slot pools as arrays, and the organisation's posts once they exist (employees repost them)."""

    def __init__(self, pools: dict[str, Sequence[str]]) -> None:
        self.pools = {name: np.array(list(values), dtype=object) for name, values in {**_SLOTS, **pools}.items()}
        self.org: pd.DataFrame | None = None

    def render(self, templates: Sequence[_Template], which: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return _render_many(templates, np.asarray(which), self.pools, rng.integers(0, 2**31, size=(len(which), 8)))


@dataclass(frozen=True)
class _Catalogue:
    """Templates in one list; per theme, the positions of the everyday and the December ones."""

    templates: list[_Template]
    normal: dict[str, np.ndarray]
    festive: dict[str, np.ndarray]


def _catalogue(normal: dict[str, tuple[str, ...]], festive: dict[str, tuple[str, ...]], prefix: str) -> _Catalogue:
    templates: list[_Template] = []
    index: dict[str, dict[str, np.ndarray]] = {"normal": {}, "festive": {}}
    for kind, spec in (("normal", normal), ("festive", festive)):
        for theme, texts in spec.items():
            first = len(templates)
            templates += [_compile(f"{prefix}{'-festive' if kind == 'festive' else ''}:{theme}:{k}", theme, t)
                          for k, t in enumerate(texts)]
            index[kind][theme] = np.arange(first, len(templates))
    return _Catalogue(templates, index["normal"], index["festive"])


def _pick_templates(rng: np.random.Generator, themes: np.ndarray, december: np.ndarray,
                    catalogue: _Catalogue) -> np.ndarray:
    """Template positions: a theme's everyday templates, or in December often its festive ones."""
    festive_pick = december & (rng.random(len(themes)) < DECEMBER_FESTIVE_SHARE)
    u = rng.random(len(themes))
    out = np.zeros(len(themes), dtype=int)
    for theme in sorted(set(themes.tolist())):
        for festive in (False, True):
            rows = (themes == theme) & (festive_pick == festive)
            pool = catalogue.festive[theme] if festive and theme in catalogue.festive else catalogue.normal[theme]
            out[rows] = pool[(u[rows] * len(pool)).astype(int)]
    return out


def _tco_links(texts: list[str], rng: np.random.Generator) -> list[str]:
    """X shows every link in a post as a t.co short link."""
    alphabet = _B64.replace("-", "Q").replace("_", "z")
    out = []
    for text in texts:
        links = _URL_RE.findall(text)
        for link in links:
            code = "".join(alphabet[v] for v in rng.integers(0, 64, 10))
            text = text.replace(link, f"https://t.co/{code}", 1)
        out.append(text)
    return out


def _org_posts(rng: np.random.Generator, tl: _Timeline, scale: float, writer: _Writer) -> pd.DataFrame:
    """The organisation's own posts on every platform, with their final (lifetime) metrics."""
    weeks = tl.days / 7
    start_weekday = tl.start.weekday()
    frames = []
    catalogue = _catalogue(_ORG_TEMPLATES, _ORG_FESTIVE_TEMPLATES, "org")
    keys = np.array([t.key for t in catalogue.templates], dtype=object)
    offset = 0
    for platform in PLATFORMS:
        n = int(rng.poisson(_ORG_WEEKLY[platform] * weeks * scale))
        seconds = np.sort(_draw_seconds(rng, np.zeros(n, int), np.full(n, tl.days - 1), _HOURS_OFFICE,
                                        weekend_factor=0.3, start_weekday=start_weekday))
        local = tl.local(seconds)
        utc = _to_utc(local)
        themes = rng.choice(list(_ORG_THEME_P), size=n, p=np.array(list(_ORG_THEME_P.values())))
        december = local.astype("datetime64[M]").astype(int) % 12 == 11
        which = _pick_templates(rng, themes, december, catalogue)
        texts = list(writer.render(catalogue.templates, which, rng))
        if platform == "x":
            texts = _tco_links(texts, rng)
        if platform == "instagram":
            extra = rng.integers(0, len(_SLOTS["tag"]), (n, 3))
            texts = [f"{t}\n.\n{' '.join(_SLOTS['tag'][k] for k in sorted(set(e)))}" for t, e in zip(texts, extra,
                                                                                                     strict=True)]
        mult = np.array([_THEME_ENGAGEMENT[t] for t in themes]) * np.where(december, 1.2, 1.0)
        frame = pd.DataFrame({
            "platform": platform, "local": local, "utc": utc, "theme": themes,
            "key": keys[which], "text": texts, "december": december, "mult": mult,
        })
        frame["share_of"] = ""
        if platform in ("facebook", "mastodon"):
            shares = rng.random(n) < (0.03 if platform == "facebook" else 0.08)
            partner = ("https://www.facebook.com/millbrookfoodpartnership/posts/" if platform == "facebook"
                       else "https://mastodon.social/@localnews/")
            frame.loc[shares, "share_of"] = [f"{partner}{v}" for v in rng.integers(10**15, 10**16, shares.sum())]
            frame.loc[shares & (platform == "mastodon"), "text"] = ""
        frame["comments_final"] = rng.poisson(_COMMENTS_PER_POST[platform] * mult)
        frame["offset"] = offset
        offset += n
        frames.append(frame)
    posts = pd.concat(frames, ignore_index=True)
    return _org_identities(rng, posts)


def _org_identities(rng: np.random.Generator, posts: pd.DataFrame) -> pd.DataFrame:
    """Ids, URLs and final metrics per platform."""
    posts = posts.copy()
    ids, urls = [""] * len(posts), [""] * len(posts)
    for platform, rows in posts.groupby("platform", sort=True).groups.items():
        rows = np.asarray(rows)
        utc = posts.loc[rows, "utc"].to_numpy()
        seconds = (utc - np.datetime64("2024-01-01", "s")).astype("int64")
        if platform == "x":
            made = _snowflakes(utc, rng, int(posts.loc[rows[0], "offset"]), epoch_ms=_EPOCH_TWITTER_MS, shift=22)
            link = [f"https://twitter.com/{ORGANISATION['handle']}/status/{i}" for i in made]
        elif platform == "facebook":
            number = [str(122150000000000000 + int(s) * 1000 + k % 1000) for k, s in enumerate(seconds)]
            made = [f"{ORGANISATION['facebook_page_id']}_{v}" for v in number]
            link = [f"https://www.facebook.com/{ORGANISATION['facebook_page_id']}/posts/{v}" for v in number]
        elif platform == "instagram":
            number = [17840000000000000 + int(s) * 100 + k % 100 for k, s in enumerate(seconds)]
            made = [str(v) for v in number]
            link = list("https://www.instagram.com/p/" + _shortcodes(np.array(number, dtype=np.uint64)) + "/")
        elif platform == "linkedin":
            made = _snowflakes(utc, rng, 0, epoch_ms=0, shift=22)
            link = [f"https://www.linkedin.com/feed/update/urn:li:activity:{v}" for v in made]
        else:
            made = _snowflakes(utc, rng, 0, epoch_ms=0, shift=16)
            link = [f"https://mastodon.social/@{ORGANISATION['handle']}/{v}" for v in made]
        for r, i, u in zip(rows, made, link, strict=True):
            ids[r], urls[r] = i, u
    posts["post_id"] = ids
    posts["url"] = urls
    n = len(posts)
    mult = posts["mult"].to_numpy()
    base = {"x": 1200, "facebook": 900, "instagram": 1100, "linkedin": 850, "mastodon": 0}
    reach = np.rint(np.array([base[p] for p in posts["platform"]]) * np.exp(rng.normal(0, 0.7, n)) * mult)
    posts["reach"] = reach
    posts["impressions"] = np.rint(reach * rng.uniform(1.1, 1.5, n))
    posts["likes"] = rng.binomial(reach.astype(int), np.clip(0.03 * mult, 0, 0.5)) + np.where(
        posts["platform"] == "mastodon", rng.poisson(6 * mult), 0)
    posts["shares"] = rng.binomial(reach.astype(int), 0.004) + np.where(
        posts["platform"] == "mastodon", rng.poisson(2 * mult), 0)
    posts["clicks"] = rng.binomial(reach.astype(int), 0.012)
    posts["saves"] = np.where(posts["platform"] == "instagram", rng.binomial(reach.astype(int), 0.008),
                              rng.binomial(reach.astype(int), 0.002))
    posts["sends"] = rng.binomial(reach.astype(int), 0.001)
    posts["hashtag_clicks"] = np.where(posts["text"].str.contains("#"), rng.binomial(reach.astype(int), 0.001), 0)
    posts["permalink_clicks"] = rng.binomial(reach.astype(int), 0.001)
    posts["video"] = rng.random(n) < 0.2
    reels = (posts["platform"] == "instagram") & posts["video"]
    posts.loc[reels, "url"] = posts.loc[reels, "url"].str.replace("/p/", "/reel/")
    posts["views"] = np.where(posts["video"], np.rint(reach * rng.uniform(0.8, 2.0, n)), 0)
    posts["profile_clicks"] = rng.binomial(reach.astype(int), 0.002)
    posts["detail_expands"] = rng.binomial(reach.astype(int), 0.008)
    posts["follows"] = rng.poisson(0.3 * mult)
    return posts.drop(columns=["offset"])


def _at(final: np.ndarray, published: np.ndarray, as_of: np.ndarray) -> np.ndarray:
    """A lifetime metric as an export taken at ``as_of`` shows it (most engagement comes in the first days)."""
    hours = np.maximum((as_of - published).astype("timedelta64[s]").astype("int64") / 3600, 1.0)
    return np.floor(np.asarray(final, dtype=float) * (1 - 0.85 * np.exp(-hours / 30))).astype("int64")


_PUBLIC_HANDLES = ("dave_from_eastgate", "concerned_resident", "millbrook_mum", "kingsmead_ken", "ratepayer1974",
                   "northfield_news", "riverside_rob", "harbourlane_hattie")
_BENEFICIARIES = ("Mrs Ortiz", "Mr Kowalczyk", "Doreen Marsh", "Mrs Abara", "Mr Feeney", "Sheila Pratt",
                  "Mrs Begum", "Mr Duffy", "Grace Okonkwo", "Mrs Hollis")
_STREETS = ("14 Elm Row", "3 Mill Lane", "Flat 2, 9 Harbour Lane", "27 Kingsmead Road", "8 Orchard Close",
            "41 Station Street", "Flat 11, Riverside Court")
_AMOUNTS = ("£500", "£1,200", "£2,500", "£5,000", "£7,500", "£10,000", "£25,000", "£50,000")


def _violation_pools(rng: np.random.Generator, people: pd.DataFrame, donors: pd.DataFrame) -> dict[str, list[str]]:
    private = donors[(donors["public_acknowledgement"] == "no") & ~donors["donor_name"].isin(_FOUNDATIONS)]
    idx = rng.integers(0, len(people), 200)
    emails = [f"{_ascii(people['first'].iat[i])}.{_ascii(people['last'].iat[i])}{rng.integers(1, 99)}@"
              f"{_MAIL_HOSTS[int(rng.integers(0, len(_MAIL_HOSTS)))]}" for i in idx]
    return {
        "donor": private["donor_name"].tolist(),
        "donor_email": [e for e in private["email"].tolist() if e],
        "personal_email": emails,
        "phone": [_phone(rng) for _ in range(300)],
        "amount": list(_AMOUNTS),
        "beneficiary": list(_BENEFICIARIES),
        "age": [str(a) for a in range(34, 90, 3)],
        "street": list(_STREETS),
        "target": list(_PUBLIC_HANDLES),
    }


def _employee_posts(rng: np.random.Generator, people: pd.DataFrame, completed: np.ndarray, tl: _Timeline,
                    scale: float, org: pd.DataFrame, writer: _Writer) -> pd.DataFrame:
    """Employees' public posts: the logistic violation DGP, themes, December templates and reposts."""
    lo = np.maximum(people["start_day"].to_numpy(), 0)
    hi = np.minimum(people["end_day"].to_numpy() - 1, tl.days - 1)
    months_active = np.maximum(hi - lo + 1, 0) / 30.44
    counts = rng.poisson(people["rate"].to_numpy() * months_active * scale)
    author = np.repeat(np.arange(len(people)), counts)
    seconds = _draw_seconds(rng, lo[author], hi[author], _HOURS_PEOPLE)
    order = np.argsort(seconds, kind="stable")
    author, seconds = author[order], seconds[order]
    n = len(author)
    local = tl.local(seconds)
    utc = _to_utc(local)
    cum = np.stack(people["platform_cum"].to_numpy())[author]
    platform_index = np.minimum((rng.random(n)[:, None] > cum).sum(axis=1), len(PLATFORMS) - 1)
    department = people["department"].to_numpy()[author]
    after = local >= np.datetime64(tl.revision, "s")
    trained = utc > completed[author]  # NaT never compares greater: untrained
    linear = BASE_LOGIT + np.array([DEPARTMENT_LOGIT[d] for d in department]) + REVISION_LOGIT * after
    p_untrained = expit(linear)
    p = expit(linear + np.log(TRAINING_ODDS_RATIO) * trained)
    violation = rng.random(n) < p
    december = local.astype("datetime64[M]").astype(int) % 12 == 11
    posts = pd.DataFrame({
        "author": author, "platform": np.array(PLATFORMS)[platform_index], "local": local, "utc": utc,
        "department": department, "after_revision": after, "trained": trained, "p_untrained": p_untrained,
        "p": p, "violation": violation, "december": december,
    })
    kind = np.full(n, "", dtype=object)
    kind[violation] = rng.choice(list(VIOLATION_KINDS), size=int(violation.sum()), p=_KIND_SHARE / _KIND_SHARE.sum())
    posts["kind"] = kind
    category = np.where(violation, "violation", "post").astype(object)
    u = rng.random(n)
    category[~violation & (u < NON_ENGLISH_SHARE)] = "non_english"
    posts["category"] = category
    _attach_reposts(rng, posts, org, u)
    themes, keys, texts = _employee_texts(rng, posts, writer)
    decorated = _decorate(texts, rng)
    posts["theme"], posts["key"] = themes, keys
    posts["text"] = np.where(posts["category"].to_numpy() == "repost", texts, decorated)
    mult = np.array([_THEME_ENGAGEMENT[t] for t in themes])
    posts["likes"] = rng.poisson(np.exp(rng.normal(1.2, 0.9, n)) * mult)
    posts["comments"] = rng.poisson(0.15 * posts["likes"].to_numpy() + 0.2)
    posts["shares"] = rng.poisson(0.1 * posts["likes"].to_numpy())
    _employee_urls(rng, posts, people)
    return posts


def _attach_reposts(rng: np.random.Generator, posts: pd.DataFrame, org: pd.DataFrame, u: np.ndarray) -> None:
    """Some clean posts share an organisation post of the same platform from the previous three weeks."""
    candidate = (posts["category"] == "post").to_numpy() & (u > 1 - REPOST_SHARE)
    source = np.full(len(posts), -1)
    utc = posts["utc"].to_numpy()
    shareable = org[(org["share_of"] == "") & (org["text"] != "")]
    for platform in PLATFORMS:
        mine = np.flatnonzero(candidate & (posts["platform"].to_numpy() == platform))
        theirs = shareable[shareable["platform"] == platform]
        if len(mine) == 0 or len(theirs) == 0:
            continue
        times = theirs["utc"].to_numpy()
        hi = np.searchsorted(times, utc[mine], side="left")
        lo = np.searchsorted(times, utc[mine] - np.timedelta64(21, "D"), side="left")
        ok = hi > lo
        pick = lo + np.floor(rng.random(len(mine)) * np.maximum(hi - lo, 1)).astype(int)
        source[mine[ok]] = theirs.index.to_numpy()[pick[ok]]
    posts["repost_of"] = source
    posts.loc[source >= 0, "category"] = "repost"


def _plant_recognition(rng: np.random.Generator, posts: pd.DataFrame, people: pd.DataFrame) -> list[str]:
    """Raise the engagement of the recognised team and of a few opted-in people who never breached the
    policy (at least ``RECOGNISED_MIN_POSTS`` posts); their roster ids, in roster order."""
    author = posts["author"].to_numpy()
    counts = posts.groupby("author").agg(n=("violation", "size"), breaches=("violation", "sum"))
    eligible = counts[(counts["n"] >= RECOGNISED_MIN_POSTS) & (counts["breaches"] == 0)].index.to_numpy()
    eligible = eligible[people["recognition_opt_in"].to_numpy()[eligible]]
    chosen = np.sort(rng.permutation(eligible)[:RECOGNISED_PEOPLE])
    factor = np.where(np.isin(author, chosen), RECOGNISED_ENGAGEMENT, 1.0)
    factor = factor * np.where(posts["department"].to_numpy() == RECOGNISED_TEAM, RECOGNISED_TEAM_ENGAGEMENT, 1.0)
    for metric in ("likes", "comments", "shares"):
        posts[metric] = np.rint(posts[metric].to_numpy() * factor).astype("int64")
    return people["employee_id"].to_numpy()[chosen].tolist()


def _employee_texts(rng: np.random.Generator, posts: pd.DataFrame, writer: _Writer,
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Theme, template key and text of every employee post."""
    n = len(posts)
    catalogue = _catalogue(_EMPLOYEE_TEMPLATES, _FESTIVE_TEMPLATES, "emp")
    templates = list(catalogue.templates)
    by_kind = {}
    for kind, options in _VIOLATION_TEMPLATES.items():
        by_kind[kind] = np.arange(len(templates), len(templates) + len(options))
        templates += [_compile(f"viol:{kind}:{i}", theme, t) for i, (theme, t) in enumerate(options)]
    first_foreign = len(templates)
    templates += [_compile(f"{lang}:{i}", theme, t) for lang, options in _NON_ENGLISH.items()
                  for i, (theme, t) in enumerate(options)]
    foreign = np.arange(first_foreign, len(templates))
    theme_names = list(_EMPLOYEE_THEME_P)
    base_p = np.array(list(_EMPLOYEE_THEME_P.values()))
    cumulative = {}
    for department in DEPARTMENTS:
        weights = base_p.copy()
        if department in _DEPARTMENT_THEME:
            weights[theme_names.index(_DEPARTMENT_THEME[department])] += 0.12
        cumulative[department] = np.cumsum(weights / weights.sum())
    category = posts["category"].to_numpy()
    department = posts["department"].to_numpy()
    cum = np.zeros((n, len(theme_names)))
    for name, values in cumulative.items():
        cum[department == name] = values
    drawn = np.array(theme_names, dtype=object)[np.minimum((rng.random(n)[:, None] > cum).sum(axis=1),
                                                           len(theme_names) - 1)]
    which = np.full(n, -1)
    plain = category == "post"
    which[plain] = _pick_templates(rng, drawn[plain], posts["december"].to_numpy()[plain], catalogue)
    u = rng.random(n)
    kinds = posts["kind"].to_numpy()
    for kind, options in by_kind.items():
        rows = kinds == kind
        which[rows] = options[(u[rows] * len(options)).astype(int)]
    rows = category == "non_english"
    which[rows] = foreign[(u[rows] * len(foreign)).astype(int)]
    draws = rng.integers(0, 2**31, size=(n, 8))
    texts = _render_many(templates, which, writer.pools, draws)
    template_themes = np.array([t.theme for t in templates], dtype=object)
    template_keys = np.array([t.key for t in templates], dtype=object)
    templated = which >= 0
    themes = np.where(templated, template_themes[np.maximum(which, 0)], "")
    keys = np.where(templated, template_keys[np.maximum(which, 0)], "")
    # reposts: an intro, the first sentence of the organisation's post, and its URL
    org = writer.org
    source = posts["repost_of"].to_numpy()
    shared = np.flatnonzero(source >= 0)
    if len(shared) and org is not None:
        # a thank-you naming a donor is the organisation's to make: employees share it without quoting it
        quotes = np.array([' "' + re.split(r"(?<=[.!?])\s", t.split("\n")[0])[0][:100] + '" '
                           if "{acknowledged}" not in _ORG_TEMPLATE_TEXT.get(key, "") else " "
                           for t, key in zip(org["text"], org["key"], strict=True)], dtype=object)
        intros = [_compile(f"intro:{i}", "", t) for i, t in enumerate(_REPOST_INTROS)]
        opening = _render_many(intros, draws[shared, 7] % len(intros), writer.pools, draws[shared])
        picked = source[shared]
        texts[shared] = opening + quotes[picked] + org["url"].to_numpy()[picked].astype(object)
        themes[shared] = org["theme"].to_numpy()[picked]
        keys[shared] = "repost:" + org["key"].to_numpy()[picked].astype(object)
    return themes, keys, texts


def _employee_urls(rng: np.random.Generator, posts: pd.DataFrame, people: pd.DataFrame) -> None:
    """Each post's handle (as a listening tool shows it) and public URL; a few URLs are missing."""
    n = len(posts)
    author = posts["author"].to_numpy()
    platform = posts["platform"].to_numpy()
    utc = posts["utc"].to_numpy()
    handles = np.full(n, "", dtype=object)
    urls = np.full(n, "", dtype=object)
    for name in PLATFORMS:
        rows = np.flatnonzero(platform == name)
        if len(rows) == 0:
            continue
        mine = people[name].to_numpy().astype(object)[author[rows]]
        if name == "x":
            ids = np.array(_snowflakes(utc[rows], rng, 10**6, epoch_ms=_EPOCH_TWITTER_MS, shift=22), dtype=object)
            handles[rows] = "@" + mine
            urls[rows] = "https://x.com/" + mine + "/status/" + ids
        elif name == "instagram":
            codes = _shortcodes(10**15 + rows)
            handles[rows] = "@" + mine
            urls[rows] = "https://www.instagram.com/p/" + codes + "/"
        elif name == "linkedin":
            ids = np.array(_snowflakes(utc[rows], rng, 2 * 10**6, epoch_ms=0, shift=22), dtype=object)
            handles[rows] = mine
            urls[rows] = "https://www.linkedin.com/feed/update/urn:li:activity:" + ids + "/"
        elif name == "facebook":
            slugs = np.array([_ascii(h.replace(" ", ".")) for h in mine], dtype=object)
            numbers = (10**15 + rows * 7919 + rng.integers(0, 7919, len(rows))).astype(str).astype(object)
            handles[rows] = mine
            urls[rows] = "https://www.facebook.com/" + slugs + "/posts/" + numbers
        else:
            ids = np.array(_snowflakes(utc[rows], rng, 10**5, epoch_ms=0, shift=16), dtype=object)
            users = np.array([h.lstrip("@").split("@")[0] for h in mine], dtype=object)
            hosts = np.array([h.split("@")[-1] for h in mine], dtype=object)
            handles[rows] = mine
            urls[rows] = "https://" + hosts + "/@" + users + "/" + ids
    missing_url = (posts["category"].to_numpy() == "post") & (rng.random(n) < 0.03)
    urls[missing_url] = ""
    posts["handle"] = handles
    posts["url"] = urls


def _post_id_from_url(url: str) -> str:
    """The id an adapter takes from a post URL: its last path segment."""
    return url.rstrip("/").rsplit("/", 1)[-1] if url else ""


def _unattributed_posts(rng: np.random.Generator, tl: _Timeline, n: int, writer: _Writer) -> pd.DataFrame:
    templates = [_compile(f"public:{i}", "", t) for i, t in enumerate(_UNATTRIBUTED_TEMPLATES)]
    seconds = np.sort(_draw_seconds(rng, np.zeros(n, int), np.full(n, tl.days - 1), _HOURS_PEOPLE))
    which = rng.integers(0, len(templates), n)
    handles = rng.choice(_PUBLIC_HANDLES, size=n)
    platform = rng.choice(["x", "instagram"], size=n)
    ids = _snowflakes(_to_utc(tl.local(seconds)), rng, 3 * 10**6, epoch_ms=_EPOCH_TWITTER_MS, shift=22)
    codes = _shortcodes(np.array([int(i) >> 20 for i in ids], dtype=np.uint64))
    urls = [f"https://x.com/{h}/status/{i}" if p == "x" else f"https://www.instagram.com/p/{c}/"
            for h, p, i, c in zip(handles, platform, ids, codes, strict=True)]
    return pd.DataFrame({
        "platform": platform, "handle": [f"@{h}" for h in handles], "utc": _to_utc(tl.local(seconds)),
        "text": writer.render(templates, which, rng), "url": urls,
        "likes": rng.poisson(3, n), "comments": rng.poisson(0.5, n), "shares": rng.poisson(0.3, n),
    })


# --- audience comments, incidents, trainings, policy versions ---------------------------------------------------

def _comments(rng: np.random.Generator, org: pd.DataFrame, tl: _Timeline, writer: _Writer) -> pd.DataFrame:
    """Audience comments on organisation posts (as many as each post's final comment count)."""
    counts = org["comments_final"].to_numpy()
    source = np.repeat(np.arange(len(org)), counts)
    n = len(source)
    window_end = _to_utc(np.array([np.datetime64(tl.end + timedelta(days=1), "s")]))[0] - np.timedelta64(60, "s")
    delay = np.rint(np.exp(rng.normal(np.log(3 * 3600), 1.2, n))).astype("int64").astype("timedelta64[s]")
    published = np.minimum(org["utc"].to_numpy()[source] + delay, window_end)
    templates = [_compile(f"comment:{i}", "", t) for i, t in enumerate(_COMMENTS)]
    texts = writer.render(templates, rng.integers(0, len(templates), n), rng)
    platform = org["platform"].to_numpy()[source]
    post_id = org["post_id"].to_numpy()[source].astype(object)
    post_url = org["url"].to_numpy()[source].astype(object)
    u = rng.random(n)
    post_id[(platform == "linkedin") | (u < 0.05)] = ""
    post_url[(u > 0.95) & (platform != "linkedin")] = ""
    comment_ids = _snowflakes(published, rng, 5 * 10**6, epoch_ms=_EPOCH_TWITTER_MS, shift=22)
    frame = pd.DataFrame({
        "platform": platform, "post_id": post_id, "post_url": post_url, "comment_id": comment_ids,
        "published_at": published, "text": texts,
    })
    return frame.sort_values(["published_at", "comment_id"], kind="stable").reset_index(drop=True)


def _incidents(rng: np.random.Generator, posts: pd.DataFrame, people: pd.DataFrame, tl: _Timeline,
               employees: int) -> pd.DataFrame:
    """Reported incidents: mostly following violating posts, some from outside the monitored posts."""
    target = min(max(round(0.36 * employees), 20), 400)
    n_posts = round(target * 0.8)
    violating = np.flatnonzero(posts["violation"].to_numpy())
    weight = np.array([3.0 if VIOLATION_KINDS[k][1] == "high" else 1.5 for k in posts["kind"].to_numpy()[violating]])
    chosen = np.sort(rng.choice(violating, size=min(n_posts, len(violating)), replace=False, p=weight / weight.sum()))
    rows = []
    for i in chosen:
        kind = posts["kind"].iat[i]
        area, severity = VIOLATION_KINDS[kind]
        rows.append((posts["utc"].iat[i], int(posts["author"].iat[i]), area, severity, posts["url"].iat[i],
                     _INCIDENT_SUMMARIES[kind], bool(posts["after_revision"].iat[i])))
    n_other = target - len(rows)
    active = np.flatnonzero((people["end_day"].to_numpy() > 30) & (people["start_day"].to_numpy() < tl.days - 30))
    who = rng.choice(active, size=n_other)
    lo = np.maximum(people["start_day"].to_numpy()[who], 0)
    hi = np.minimum(people["end_day"].to_numpy()[who] - 1, tl.days - 1)
    local = tl.local(_draw_seconds(rng, lo, hi, _HOURS_PEOPLE))
    revision_utc = _to_utc(np.array([np.datetime64(tl.revision, "s")]))[0]
    for person, when, which in zip(who, _to_utc(local), rng.integers(0, len(_OTHER_INCIDENTS), n_other), strict=True):
        area, severity, summary = _OTHER_INCIDENTS[which]
        rows.append((when, int(person), area, severity, "", summary, bool(when >= revision_utc)))
    frame = pd.DataFrame(rows, columns=["occurred", "person", "policy_area", "severity", "post_url", "summary",
                                        "after"])
    n = len(frame)
    after = frame["after"].to_numpy()
    u = rng.random(n)
    frame["detection"] = np.where(u < np.where(after, 0.40, 0.20), "self_reported",
                                  np.where(u < np.where(after, 0.85, 0.80), "detected", "external"))
    report_h = np.exp(rng.normal(np.log(np.where(after, 10.0, 30.0)), 0.9))
    resolve_h = np.exp(rng.normal(np.log(np.where(after, 16.0, 40.0)), 0.8))
    occurred = frame["occurred"].to_numpy().astype("datetime64[s]")
    reported = occurred + np.rint(report_h * 3600).astype("int64").astype("timedelta64[s]")
    resolved = reported + np.rint(resolve_h * 3600).astype("int64").astype("timedelta64[s]")
    window_end = _to_utc(np.array([np.datetime64(tl.end + timedelta(days=1), "s")]))[0]
    frame["reported"] = reported
    frame["resolved"] = np.where((resolved > window_end) | (rng.random(n) < 0.03), np.datetime64("NaT"), resolved)
    frame = frame[reported < window_end].sort_values("reported", kind="stable").reset_index(drop=True)
    years = frame["reported"].to_numpy().astype("datetime64[Y]").astype(int) + 1970
    seq: dict[int, int] = {}
    ids = []
    for year in years:
        seq[year] = seq.get(year, 0) + 1
        ids.append(f"INC-{year}-{seq[year]:04d}")
    frame["incident_id"] = ids
    frame["employee_email"] = people["email"].to_numpy()[frame["person"].to_numpy()]
    frame["department"] = people["department"].to_numpy()[frame["person"].to_numpy()]
    return frame


def _local_text(utc: np.ndarray, fmt: str) -> list[str]:
    """UTC times as local wall-clock text (NaT -> empty)."""
    out = [""] * len(utc)
    valid = ~np.isnat(np.asarray(utc, dtype="datetime64[s]"))
    if valid.any():
        local = pd.DatetimeIndex(_to_local(np.asarray(utc, dtype="datetime64[s]")[valid])).strftime(fmt)
        for position, text in zip(np.flatnonzero(valid), local, strict=True):
            out[position] = text
    return out


def _trainings(rng: np.random.Generator, people: pd.DataFrame, completed: np.ndarray, tl: _Timeline,
               ) -> pd.DataFrame:
    rows: list[tuple[str, str, np.datetime64]] = []
    for person in np.flatnonzero(~np.isnat(completed)):
        rows.append((people["email"].iat[person], TRAINING_MODULE, completed[person]))
    start = people["start_day"].to_numpy()
    end = people["end_day"].to_numpy()
    department = people["department"].to_numpy()
    for person in range(len(people)):
        days = []
        if start[person] >= 0:
            days.append(start[person] + int(rng.integers(3, 30)))
        refresh = 60
        while refresh < tl.days:
            if start[person] < refresh < end[person] and rng.random() < 0.85:
                days.append(refresh + int(rng.integers(0, 28)))
            refresh += 365
        for day in days:
            if day < min(end[person], tl.days):
                when = _to_utc(tl.local(_draw_seconds(rng, np.array([day]), np.array([day]), _HOURS_OFFICE)))[0]
                rows.append((people["email"].iat[person], OTHER_MODULES[0], when))
        module = {"Programs": 1, "Volunteer Services": 1, "Fundraising": 2, "Communications": 2}.get(department[person])
        if module is not None and rng.random() < 0.55:
            lo, hi = max(start[person], 0), min(end[person] - 1, tl.days - 1)
            if hi > lo:
                when = _to_utc(tl.local(_draw_seconds(rng, np.array([lo]), np.array([hi]), _HOURS_OFFICE)))[0]
                rows.append((people["email"].iat[person], OTHER_MODULES[module], when))
    frame = pd.DataFrame(rows, columns=["employee_email", "module", "utc"])
    frame = frame.sort_values(["utc", "employee_email"], kind="stable").reset_index(drop=True)
    frame["completed_at"] = _local_text(frame["utc"].to_numpy(), "%Y-%m-%d %H:%M:%S")
    return frame


def _policy_versions(tl: _Timeline) -> pd.DataFrame:
    return pd.DataFrame([
        ("1.0", tl.start.isoformat(), "First social media policy: confidentiality, disclosure, conduct and "
         "how to report mistakes", "confidentiality;disclosure;conduct;engagement;mistakes;learning;feedback"),
        ("2.0", tl.revision.isoformat(), "Revision: donor and beneficiary examples, 'views my own' wording, "
         "a simple route to report mistakes", "confidentiality;disclosure;mistakes"),
        ("3.0", tl.training_start.isoformat(), f"Adds the {TRAINING_MODULE} training module and explains "
         "how monitoring works", "learning;feedback"),
    ], columns=["version", "effective_on", "summary", "areas_changed"])


# --- surveys ---------------------------------------------------------------------------------------------------

_CONSTRUCT_MEAN = {"clarity": 3.55, "trust": 3.15, "confidence": 3.35, "safety": 3.30, "support": 3.25,
                   "voice": 2.95}
_PERSON_SD, _ANSWER_SD = 0.55, 0.85
RESPONSE_RATE = 0.70


@dataclass(frozen=True)
class _Instrument:
    likert: list[dict[str, Any]]
    nps: list[dict[str, Any]]
    text: list[dict[str, Any]]
    demographic: list[dict[str, Any]]
    labels: dict[str, dict[int, str]]  # scale id -> value -> label


def _instrument(codebook_path: Path) -> _Instrument:
    if not codebook_path.exists():
        raise ValueError(f"the survey codebook {codebook_path} does not exist; the sample surveys take their "
                         f"questions from it (restore data/codebook.yml)")
    raw = yaml.safe_load(codebook_path.read_text(encoding="utf-8"))
    items = raw.get("items") or []
    labels = {sid: {int(e["value"]): str(e["label"]) for e in spec.get("labels") or []}
              for sid, spec in (raw.get("scales") or {}).items()}
    by_kind: dict[str, list[dict[str, Any]]] = {"likert": [], "nps": [], "text": [], "demographic": []}
    for item in items:
        by_kind.setdefault(str(item.get("kind")), []).append(item)
    if not by_kind["likert"]:
        raise ValueError(f"{codebook_path} has no likert items; the sample surveys need some")
    return _Instrument(by_kind["likert"], by_kind["nps"], by_kind["text"], by_kind["demographic"], labels)


def _expected_answer(mean: np.ndarray, sd: float, low: int = 1, high: int = 5) -> np.ndarray:
    """E[clip(round(X), low, high)] for X ~ Normal(mean, sd): low + sum_k P(X >= k + 0.5)."""
    steps = np.arange(low, high) + 0.5
    return low + norm.sf((steps[None, :] - np.asarray(mean)[:, None]) / sd).sum(axis=1)


def _waves(tl: _Timeline) -> list[dict[str, Any]]:
    """One wave per calendar quarter: opens on the second Monday of the quarter's middle month."""
    waves = []
    month = _add_months(tl.start, 0)
    while month <= tl.end:
        if month.month % 3 == 2:
            first = month
            opens = first + timedelta(days=(7 - first.weekday()) % 7 + 7)
            closes = opens + timedelta(days=13)
            if tl.start <= opens and closes <= tl.end:
                quarter = (month.month - 1) // 3 + 1
                waves.append({"wave": f"{month.year}-Q{quarter}", "opens": opens, "closes": closes})
        month = _add_months(month, 1)
    for k, wave in enumerate(waves):
        wave["format"] = _FORMAT_ROTATION[k % len(_FORMAT_ROTATION)]
    return waves


def _item_means(rng: np.random.Generator, likert: list[dict[str, Any]]) -> np.ndarray:
    offsets = rng.normal(0, 0.15, len(likert))
    return np.array([_CONSTRUCT_MEAN.get(str(i.get("construct")), 3.3) for i in likert]) + offsets


def _wave_shift(likert: list[dict[str, Any]], opens: date, tl: _Timeline) -> np.ndarray:
    """Improvements after the revision (clarity, safety) and after the training rollout (support)."""
    shift = np.zeros(len(likert))
    for j, item in enumerate(likert):
        construct = item.get("construct")
        if opens >= tl.revision and construct == "clarity":
            shift[j] += 0.25
        if opens >= tl.revision and construct == "safety":
            shift[j] += 0.15
        if opens >= tl.training_end and construct == "support":
            shift[j] += 0.25
    return shift


def _simulate_wave(rng: np.random.Generator, wave: dict[str, Any], people: pd.DataFrame, tl: _Timeline,
                   instrument: _Instrument, item_means: np.ndarray, writer: _Writer) -> dict[str, Any]:
    """Who answered and what: latent favourability -> rounded, clipped 1-5 answers (reversed where asked)."""
    open_day, close_day = tl.day(wave["opens"]), tl.day(wave["closes"])
    employed = np.flatnonzero((people["start_day"].to_numpy() <= open_day) & (people["end_day"].to_numpy() > close_day))
    respondents = employed[rng.random(len(employed)) < RESPONSE_RATE]
    rng.shuffle(respondents)
    n = len(respondents)
    department = people["department"].to_numpy()[respondents]
    low = department == LOW_DEPARTMENT
    shift = _wave_shift(instrument.likert, wave["opens"], tl)
    mean = item_means[None, :] + shift[None, :] + np.where(low, LIKERT_SHIFT, 0.0)[:, None]
    latent = mean + rng.normal(0, _PERSON_SD, (n, 1)) + rng.normal(0, _ANSWER_SD, mean.shape)
    favourable = np.clip(np.rint(latent), 1, 5)
    reverse = np.array([bool(i.get("reverse")) for i in instrument.likert])
    likert = np.where(reverse[None, :], 6 - favourable, favourable)
    likert[rng.random(likert.shape) < 0.02] = np.nan
    nps = np.clip(np.rint(rng.normal(7.2 - 1.0 * low[:, None], 2.0, (n, len(instrument.nps)))), 0, 10)
    delay = np.minimum(rng.exponential(3.0 * 86400, n), 13 * 86400 - 3600)
    day = open_day + (delay // 86400).astype(int)
    submitted = tl.local(_draw_seconds(rng, day, day, _HOURS_OFFICE + 0.05 * _HOURS_PEOPLE))
    duration = rng.integers(150, 1100, n)
    started = submitted - duration.astype("timedelta64[s]")
    finished = np.ones(n, dtype=bool)
    if wave["format"] in ("qualtrics", "qualtrics_legacy"):
        finished = rng.random(n) >= 0.08
    answered_upto = np.where(finished, 10**6, rng.integers(2, max(3, len(instrument.likert) - 2), n))
    texts: list[list[str]] = []
    for item in instrument.text:
        pool = [_compile(f"survey:{item['id']}:{k}", "", t)
                for k, t in enumerate(_SURVEY_COMMENTS.get(str(item["id"]), _SURVEY_COMMENTS["comment_policy_easier"]))]
        chosen = writer.render(pool, rng.integers(0, len(pool), n), rng)
        keep = (rng.random(n) < 0.35) & finished
        texts.append([t if k else "" for t, k in zip(chosen, keep, strict=True)])
    demographics = []
    for item in instrument.demographic:
        choices = [str(c) for c in item.get("choices") or []]
        column = item.get("column")
        if column == "department" and set(department) <= set(choices):
            index = np.array([choices.index(d) for d in department])
        elif column == "role_level" and set(people["role_level"]) <= set(choices):
            index = np.array([choices.index(r) for r in people["role_level"].to_numpy()[respondents]])
        elif column == "tenure_band" and len(choices) == 4:
            years = (open_day - people["start_day"].to_numpy()[respondents]) / 365.25
            index = np.digitize(years, [1, 3, 5])
        else:
            index = rng.integers(0, max(len(choices), 1), n)
        index = np.where(rng.random(n) < 0.03, -1, index)  # skipped
        demographics.append(index)
    extra = rng.choice(len(_SURVEY_EXTRA_QUESTION[1]), size=n, p=[0.35, 0.15, 0.15, 0.1, 0.05, 0.2])
    return {
        **wave, "invited": len(employed), "people": respondents, "department": department, "likert": likert,
        "nps": nps, "texts": texts, "demographics": demographics, "extra": extra, "submitted": submitted,
        "started": started, "duration": duration, "finished": finished, "answered_upto": answered_upto,
        "expected": _expected_answer(mean.ravel(), float(np.hypot(_PERSON_SD, _ANSWER_SD))).reshape(mean.shape),
    }


def _questions(instrument: _Instrument) -> list[dict[str, Any]]:
    """The survey's questions in export order: Likert battery, eNPS, free text, extra question, demographics."""
    out = [{"kind": "likert", "index": j, "text": str(i["text"]), "scale": i.get("scale")}
           for j, i in enumerate(instrument.likert)]
    out += [{"kind": "nps", "index": j, "text": str(i["text"])} for j, i in enumerate(instrument.nps)]
    out += [{"kind": "text", "index": j, "text": str(i["text"])} for j, i in enumerate(instrument.text)]
    out.append({"kind": "extra", "index": 0, "text": _SURVEY_EXTRA_QUESTION[0]})
    out += [{"kind": "demographic", "index": j, "text": str(i["text"]), "choices": [str(c) for c in i.get("choices")
                                                                                 or []]}
            for j, i in enumerate(instrument.demographic)]
    return out


def _answer_cells(sim: dict[str, Any], questions: list[dict[str, Any]], instrument: _Instrument, *,
                  numeric: bool) -> list[list[Any]]:
    """One row of answer cells per respondent: numeric codes, or choice text (as the export option says)."""
    rows = []
    for r in range(len(sim["people"])):
        row: list[Any] = []
        for position, q in enumerate(questions):
            if position >= sim["answered_upto"][r]:
                row.append("")
                continue
            kind, j = q["kind"], q["index"]
            if kind == "likert":
                value = sim["likert"][r, j]
                if np.isnan(value):
                    row.append("")
                else:
                    label = instrument.labels.get(str(q.get("scale")), {}).get(int(value), str(int(value)))
                    row.append(str(int(value)) if numeric else label)
            elif kind == "nps":
                row.append(str(int(sim["nps"][r, j])))
            elif kind == "text":
                row.append(sim["texts"][j][r])
            elif kind == "extra":
                choice = int(sim["extra"][r])
                row.append(str(choice + 1) if numeric else _SURVEY_EXTRA_QUESTION[1][choice])
            else:
                choice = int(sim["demographics"][j][r])
                row.append("" if choice < 0 else str(choice + 1) if numeric else q["choices"][choice])
        rows.append(row)
    return rows


def _zone_text(local: np.ndarray, zone: str, fmt: str) -> list[str]:
    """Organisation-local times re-expressed in ``zone`` (what an export set to that zone shows)."""
    index = pd.DatetimeIndex(_to_utc(local)).tz_localize("UTC").tz_convert(zone)
    return list(index.strftime(fmt))


def _response_ids(rng: np.random.Generator, n: int) -> list[str]:
    alphabet = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"))
    picks = rng.integers(0, len(alphabet), (n, 15))
    return ["R_" + "".join(alphabet[row]) for row in picks]


def _write_qualtrics(path: Path, sim: dict[str, Any], questions: list[dict[str, Any]], instrument: _Instrument,
                     rng: np.random.Generator, *, zone: str) -> int:
    meta_ids = ["StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)", "Finished",
                "RecordedDate", "ResponseId", "RecipientLastName", "RecipientFirstName", "RecipientEmail",
                "ExternalReference", "LocationLatitude", "LocationLongitude", "DistributionChannel", "UserLanguage"]
    meta_labels = ["Start Date", "End Date", "Response Type", "IP Address", "Progress", "Duration (in seconds)",
                   "Finished", "Recorded Date", "Response ID", "Recipient Last Name", "Recipient First Name",
                   "Recipient Email", "External Data Reference", "Location Latitude", "Location Longitude",
                   "Distribution Channel", "User Language"]
    import_ids = ["startDate", "endDate", "status", "ipAddress", "progress", "duration", "finished", "recordedDate",
                  "_recordId", "recipientLastName", "recipientFirstName", "recipientEmail", "externalDataReference",
                  "locationLatitude", "locationLongitude", "distributionChannel", "userLanguage"]
    dated = {"startDate", "endDate", "recordedDate"}
    meta_json = [json.dumps({"ImportId": k, **({"timeZone": zone} if k in dated else {})}, separators=(",", ":"))
                 for k in import_ids]
    q_ids = [f"Q{k + 1}" for k in range(len(questions))]
    q_json = [json.dumps({"ImportId": f"QID{k + 1}_TEXT" if q["kind"] == "text" else f"QID{k + 1}"},
                         separators=(",", ":")) for k, q in enumerate(questions)]
    rows: list[list[Any]] = [meta_ids + q_ids, meta_labels + [q["text"] for q in questions], meta_json + q_json]
    n = len(sim["people"])
    fmt = "%Y-%m-%d %H:%M:%S"
    finished = sim["finished"]
    # an unfinished response is recorded when Qualtrics closes it, a week after the last activity
    ended = np.where(finished, sim["submitted"], sim["started"] + np.timedelta64(600, "s"))
    recorded = np.where(finished, sim["submitted"], ended + np.timedelta64(7 * 86400, "s"))
    start_text = _zone_text(sim["started"], zone, fmt)
    end_text = _zone_text(ended, zone, fmt)
    recorded_text = _zone_text(recorded, zone, fmt)
    ids = _response_ids(rng, n)
    cells = _answer_cells(sim, questions, instrument, numeric=True)
    ip = rng.integers(1, 255, n)
    for r in range(n):
        progress = 100 if finished[r] else int(100 * sim["answered_upto"][r] / len(questions))
        rows.append([start_text[r], end_text[r], "0", f"203.0.113.{ip[r]}", str(progress),
                     str(int(sim["duration"][r]) if finished[r] else 600), "1" if finished[r] else "0",
                     recorded_text[r], ids[r], "", "", "", "", f"{51.45 + ip[r] / 1000:.4f}",
                     f"{-0.97 - ip[r] / 1000:.4f}", "anonymous", "EN", *cells[r]])
    path.write_text(_csv_text(rows), encoding="utf-8")
    return n


def _write_qualtrics_legacy(path: Path, sim: dict[str, Any], questions: list[dict[str, Any]],
                            instrument: _Instrument, rng: np.random.Generator) -> int:
    row1 = [f"V{k}" for k in range(1, 11)] + [f"Q{k + 1}" for k in range(len(questions))] + [
        "LocationLatitude", "LocationLongitude", "LocationAccuracy"]
    row2 = ["ResponseID", "ResponseSet", "Name", "ExternalDataReference", "EmailAddress", "IPAddress", "Status",
            "StartDate", "EndDate", "Finished"] + [q["text"] for q in questions] + [
        "LocationLatitude", "LocationLongitude", "LocationAccuracy"]
    rows: list[list[Any]] = [row1, row2]
    n = len(sim["people"])
    fmt = "%Y-%m-%d %H:%M:%S"
    finished = sim["finished"]
    ended = np.where(finished, sim["submitted"], sim["started"] + np.timedelta64(7 * 86400, "s"))
    start_text = [str(t).replace("T", " ") for t in sim["started"]]
    end_text = list(pd.DatetimeIndex(ended).strftime(fmt))
    ids = _response_ids(rng, n)
    cells = _answer_cells(sim, questions, instrument, numeric=True)
    ip = rng.integers(1, 255, n)
    for r in range(n):
        rows.append([ids[r], "Default Response Set", "Anonymous", "", "", f"198.51.100.{ip[r]}", "0", start_text[r],
                     end_text[r], "1" if finished[r] else "0", *cells[r], f"{51.45 + ip[r] / 1000:.4f}",
                     f"{-0.97 - ip[r] / 1000:.4f}", "-1"])
    path.write_bytes(b"\xef\xbb\xbf" + _csv_text(rows, trailing_comma=True).encode("utf-8"))
    return n


def _write_surveymonkey(path: Path, sim: dict[str, Any], questions: list[dict[str, Any]], instrument: _Instrument,
                        rng: np.random.Generator) -> int:
    meta = ["Respondent ID", "Collector ID", "Start Date", "End Date", "IP Address", "Email Address", "First Name",
            "Last Name", "Custom Data 1"]
    row1, row2 = list(meta), [""] * len(meta)
    first_likert = True
    for q in questions:
        if q["kind"] == "likert":
            row1.append(_MATRIX_STEM if first_likert else "")
            row2.append(q["text"])
            first_likert = False
        else:
            row1.append(q["text"])
            row2.append("Open-Ended Response" if q["kind"] == "text" else "Response")
    rows: list[list[Any]] = [row1, row2]
    n = len(sim["people"])
    fmt = "%m/%d/%Y %I:%M:%S %p"
    start_text = list(pd.DatetimeIndex(sim["started"]).strftime(fmt))
    end_text = list(pd.DatetimeIndex(sim["submitted"]).strftime(fmt))
    first_id = int(rng.integers(114_000_000_00, 114_900_000_00))
    collector = str(int(rng.integers(400_000_000, 499_999_999)))
    cells = _answer_cells(sim, questions, instrument, numeric=False)
    ip = rng.integers(1, 255, n)
    for r in range(n):
        rows.append([str(first_id + 7 * r + int(ip[r]) % 7), collector, start_text[r], end_text[r],
                     f"192.0.2.{ip[r]}", "", "", "", "", *cells[r]])
    path.write_text(_csv_text(rows), encoding="utf-8")
    return n


def _write_google_forms(path: Path, sim: dict[str, Any], questions: list[dict[str, Any]],
                        instrument: _Instrument) -> int:
    header = ["Timestamp"] + [f"{_MATRIX_STEM} [{q['text']}]" if q["kind"] == "likert" else q["text"]
                              for q in questions]
    utc = pd.DatetimeIndex(_to_utc(sim["submitted"])).tz_localize("UTC").tz_convert(TZ)
    stamps = []
    for t in utc:
        offset = int(t.utcoffset().total_seconds() // 3600)
        stamps.append(t.strftime("%Y/%m/%d %I:%M:%S %p ") + (f"GMT+{offset}" if offset else "GMT"))
    cells = _answer_cells(sim, questions, instrument, numeric=False)
    order = np.argsort(sim["submitted"], kind="stable")
    rows = [header] + [[stamps[r], *cells[r]] for r in order]
    path.write_text(_csv_text(rows, quote_all=True), encoding="utf-8")
    return len(order)


def _write_ms_forms(path: Path, sim: dict[str, Any], questions: list[dict[str, Any]], instrument: _Instrument) -> int:
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("Sheet1")
    sheet.append(["ID", "Start time", "Completion time", "Email", "Name", "Last modified time",
                  *[q["text"] for q in questions]])
    cells = _answer_cells(sim, questions, instrument, numeric=False)
    order = np.argsort(sim["submitted"], kind="stable")
    for k, r in enumerate(order, start=1):
        answers = [int(c) if q["kind"] == "nps" and c != "" else (c if c != "" else None)
                   for q, c in zip(questions, cells[r], strict=True)]
        sheet.append([k, pd.Timestamp(sim["started"][r]).to_pydatetime(),
                      pd.Timestamp(sim["submitted"][r]).to_pydatetime(), "anonymous", None, None, *answers])
    _save_workbook(workbook, path)
    return len(order)


def _survey_file_name(wave: dict[str, Any], n: int) -> str:
    closes: date = wave["closes"] + timedelta(days=1)
    title = f"Staff Policy Pulse {wave['wave']}"
    return {
        "qualtrics": f"Riverbend {title}_{closes:%B} {closes.day}, {closes.year}_09.15.csv",
        "qualtrics_legacy": f"Riverbend_{title.replace(' ', '_')}.csv",
        "surveymonkey": f"{title} - SurveyMonkey.csv",
        "google_forms": f"{title} (Responses) - Form responses 1.csv",
        "ms_forms": f"{title}(1-{n}).xlsx",
    }[wave["format"]]


# --- post exports -------------------------------------------------------------------------------------------------

_X_METRICS = ["impressions", "engagements", "engagement rate", "retweets", "replies", "likes",
              "user profile clicks", "url clicks", "hashtag clicks", "detail expands", "permalink clicks",
              "app opens", "app installs", "follows", "email tweet", "dial phone", "media views",
              "media engagements"]
_X_ACTIVITY_HEADER = ["Tweet id", "Tweet permalink", "Tweet text", "time", *_X_METRICS,
                      *[f"promoted {m}" for m in _X_METRICS]]


def _as_of_utc(day: date) -> np.datetime64:
    """Midnight at the start of ``day`` in the organisation's zone, as an export named with that day means."""
    return _to_utc(np.array([np.datetime64(day, "s")]))[0]


def _metrics_at(posts: pd.DataFrame, day: date) -> dict[str, np.ndarray]:
    as_of = _as_of_utc(day)
    published = posts["utc"].to_numpy()
    names = ("impressions", "reach", "likes", "shares", "clicks", "saves", "views", "profile_clicks",
             "detail_expands", "follows", "sends", "hashtag_clicks", "permalink_clicks", "comments_final")
    return {name: _at(posts[name].to_numpy(), published, as_of) for name in names}


def _x_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _write_x_activity(out: Path, org: pd.DataFrame, tl: _Timeline) -> dict[str, int]:
    written = {}
    x = org[org["platform"] == "x"]
    month = tl.start
    while month <= tl.end:
        following = _add_months(month, 1)
        chunk = x[(x["local"] >= np.datetime64(month, "s")) & (x["local"] < np.datetime64(following, "s"))]
        chunk = chunk.iloc[::-1]  # newest first, as X writes them
        m = _metrics_at(chunk, following)
        media_eng = np.floor(m["views"] * 0.05).astype("int64")
        engagements = (m["shares"] + m["comments_final"] + m["likes"] + m["profile_clicks"] + m["clicks"]
                       + m["hashtag_clicks"] + m["detail_expands"] + m["permalink_clicks"] + m["follows"] + media_eng)
        rate = np.where(m["impressions"] > 0, engagements / np.maximum(m["impressions"], 1), 0.0)
        times = pd.DatetimeIndex(chunk["utc"].to_numpy()).strftime("%Y-%m-%d %H:%M +0000")
        rows: list[list[Any]] = [_X_ACTIVITY_HEADER]
        ids, links, texts = chunk["post_id"].tolist(), chunk["url"].tolist(), chunk["text"].tolist()
        for k in range(len(chunk)):
            floats = [m["impressions"][k], engagements[k]]
            rest = [m["shares"][k], m["comments_final"][k], m["likes"][k], m["profile_clicks"][k], m["clicks"][k],
                    m["hashtag_clicks"][k], m["detail_expands"][k], m["permalink_clicks"][k]]
            rows.append([ids[k], links[k], _x_escape(texts[k]), times[k],
                         *_fmt_float(np.array(floats)), repr(float(rate[k])), *_fmt_float(np.array(rest)),
                         "0", "0", str(m["follows"][k]), "0", "0", str(m["views"][k]), str(media_eng[k]),
                         *["-"] * len(_X_METRICS)])
        name = f"tweet_activity_metrics_{ORGANISATION['handle']}_{month:%Y%m%d}_{following:%Y%m%d}_en.csv"
        (out / name).write_text(_csv_text(rows, quote_all=True), encoding="utf-8")
        written[name] = len(chunk)
        month = following
    return written


def _write_x_content(out: Path, org: pd.DataFrame, tl: _Timeline) -> dict[str, int]:
    first = _add_months(date(tl.end.year, tl.end.month, 1), -2)
    x = org[(org["platform"] == "x") & (org["local"] >= np.datetime64(first, "s"))].iloc[::-1]
    m = _metrics_at(x, tl.end)
    engagements = (m["likes"] + m["comments_final"] + m["shares"] + m["sends"] + m["saves"] + m["clicks"]
                   + m["profile_clicks"] + m["detail_expands"] + m["hashtag_clicks"] + m["permalink_clicks"])
    dates = pd.DatetimeIndex(x["local"].to_numpy()).strftime("%a, %b %d, %Y")
    frame = pd.DataFrame({
        "Post id": x["post_id"].to_numpy(), "Date": list(dates), "Post text": x["text"].to_numpy(),
        "Post Link": [u.replace("twitter.com", "x.com") for u in x["url"]],
        "Impressions": _thousands(m["impressions"]), "Likes": _thousands(m["likes"]),
        "Engagements": _thousands(engagements), "Bookmarks": _thousands(m["saves"]),
        "Shares": _thousands(m["sends"]), "New follows": _thousands(m["follows"]),
        "Replies": _thousands(m["comments_final"]), "Reposts": _thousands(m["shares"]),
        "Profile visits": _thousands(m["profile_clicks"]), "Detail Expands": _thousands(m["detail_expands"]),
        "URL Clicks": _thousands(m["clicks"]), "Hashtag Clicks": _thousands(m["hashtag_clicks"]),
        "Permalink Clicks": _thousands(m["permalink_clicks"]),
    })
    name = f"account_analytics_content_{first:%Y-%m-%d}_{tl.end:%Y-%m-%d}.csv"
    _write_frame(out / name, frame)
    return {name: len(frame)}


def _quarter_windows(tl: _Timeline, overlap_days: int) -> list[tuple[date, date]]:
    """Export periods: calendar quarters, each starting ``overlap_days`` before the previous one ended."""
    windows: list[tuple[date, date]] = []
    begin = tl.start
    while begin <= tl.end:
        quarter_end = _add_months(date(begin.year, (begin.month - 1) // 3 * 3 + 1, 1), 3) - timedelta(days=1)
        stop = min(quarter_end, tl.end)
        windows.append((max(begin - timedelta(days=overlap_days), tl.start) if windows else begin, stop))
        begin = stop + timedelta(days=1)
    return windows


def _in_window(posts: pd.DataFrame, begin: date, end: date) -> pd.DataFrame:
    local = posts["local"].to_numpy()
    return posts[(local >= np.datetime64(begin, "s")) & (local < np.datetime64(end + timedelta(days=1), "s"))]


def _write_meta(out: Path, org: pd.DataFrame, tl: _Timeline) -> tuple[dict[str, int], dict[str, int]]:
    """Quarterly Business Suite exports overlapping by a week; returns (records, records to reject) per file."""
    written, rejects = {}, {}
    fb = org[org["platform"] == "facebook"]
    page = ORGANISATION["facebook_page_id"]
    windows = _quarter_windows(tl, overlap_days=7)
    for k, (begin, end) in enumerate(windows):
        chunk = _in_window(fb, begin, end).iloc[::-1]
        m = _metrics_at(chunk, end)
        video = chunk["video"].to_numpy()
        share = (chunk["share_of"] != "").to_numpy()
        other_clicks = np.floor(m["clicks"] * 0.4).astype("int64")
        ids = chunk["post_id"].tolist()
        if k == 0 and len(windows) > 1:
            # one id went through Excel on the analyst's laptop; the post is also in the next export
            overlap = np.flatnonzero(chunk["local"].to_numpy() >= np.datetime64(windows[1][0], "s"))
            if len(overlap):
                ids[overlap[-1]] = "1.22158E+17"
        frame = pd.DataFrame({
            "Post ID": ids, "Page ID": page, "Page name": ORGANISATION["name"], "Title": "",
            "Description": chunk["text"].to_numpy(),
            "Duration (sec)": np.where(video, (chunk["reach"].to_numpy() % 170 + 15).astype(int).astype(str), ""),
            "Publish time": list(pd.DatetimeIndex(chunk["local"].to_numpy()).strftime("%m/%d/%Y %H:%M")),
            "Caption type": "", "Permalink": chunk["url"].to_numpy(), "Is crosspost": "No",
            "Is share": np.where(share, "Yes", "No"),
            "Post type": np.where(video, "Videos", np.where(share, "Links", "Photos")),
            "Languages": "", "Custom labels": "", "Funded content status": "", "Data comment": "",
            "Date": "Lifetime", "Impressions": m["impressions"], "Reach": m["reach"],
            "Reactions, comments and shares": m["likes"] + m["comments_final"] + m["shares"],
            "Reactions": m["likes"], "Comments": m["comments_final"], "Shares": m["shares"],
            "Total clicks": m["clicks"] + other_clicks, "Link clicks": m["clicks"], "Other clicks": other_clicks,
            "Views": np.where(video, m["views"], 0),
        })
        name = f"{begin:%b-%d-%Y}_{end:%b-%d-%Y}_{page}.csv"
        _write_frame(out / name, frame, bom=True)
        written[name] = len(frame)
        if "1.22158E+17" in ids:
            rejects[name] = 1
    return written, rejects


def _write_instagram(out: Path, org: pd.DataFrame, tl: _Timeline) -> dict[str, int]:
    written = {}
    ig = org[org["platform"] == "instagram"]
    account = ORGANISATION["instagram_account_id"]
    middle = _add_months(tl.start, tl.months // 2)
    windows = [(tl.start, middle - timedelta(days=1)), (_add_months(middle, -1), tl.end)]
    for begin, end in windows:
        chunk = _in_window(ig, begin, end).iloc[::-1]
        m = _metrics_at(chunk, end)
        video = chunk["video"].to_numpy()
        frame = pd.DataFrame({
            "Post ID": chunk["post_id"].to_numpy(), "Account ID": account,
            "Account username": ORGANISATION["handle"], "Account name": ORGANISATION["name"],
            "Description": chunk["text"].to_numpy(),
            "Duration (sec)": np.where(video, (chunk["reach"].to_numpy() % 80 + 7).astype(int).astype(str), ""),
            "Publish time": list(pd.DatetimeIndex(chunk["local"].to_numpy()).strftime("%m/%d/%Y %H:%M")),
            "Permalink": chunk["url"].to_numpy(),
            "Post type": np.where(video, "IG reel", "IG image"), "Data comment": "", "Date": "Lifetime",
            "Views": _thousands(np.where(video, m["views"], np.floor(m["impressions"] * 1.2))),
            "Reach": _thousands(m["reach"]), "Likes": _thousands(m["likes"]), "Shares": _thousands(m["shares"]),
            "Follows": _thousands(m["follows"]), "Comments": _thousands(m["comments_final"]),
            "Saves": _thousands(m["saves"]),
        })
        name = f"{begin:%b-%d-%Y}_{end:%b-%d-%Y}_{account}.csv"
        _write_frame(out / name, frame, bom=True)
        written[name] = len(frame)
    return written


def _write_linkedin(out: Path, org: pd.DataFrame, tl: _Timeline, admins: Sequence[str]) -> dict[str, int]:
    import openpyxl

    written = {}
    li = org[org["platform"] == "linkedin"]
    middle = _add_months(tl.start, tl.months // 2)
    for begin, end in [(tl.start, middle - timedelta(days=1)), (middle, tl.end)]:
        chunk = _in_window(li, begin, end).iloc[::-1]
        m = _metrics_at(chunk, end + timedelta(days=1))
        workbook = openpyxl.Workbook(write_only=True)
        metrics = workbook.create_sheet("Metrics")
        metrics.append(["Aggregated metrics for the posts published in the selected date range. Impressions and "
                        "clicks are counted on the day they happened."])
        metrics.append(["Date", "Impressions (organic)", "Impressions (sponsored)", "Impressions (total)",
                        "Clicks (organic)", "Clicks (sponsored)", "Clicks (total)", "Reactions (organic)",
                        "Comments (organic)", "Reposts (organic)", "Engagement rate (organic)"])
        days = pd.DatetimeIndex(chunk["local"].to_numpy()).normalize()
        daily = pd.DataFrame({"day": days, "impressions": m["impressions"], "clicks": m["clicks"],
                              "likes": m["likes"], "comments": m["comments_final"], "shares": m["shares"]})
        daily = daily.groupby("day").sum().reindex(pd.date_range(begin, end, freq="D"), fill_value=0)
        for day, row in daily.iterrows():
            engaged = row["clicks"] + row["likes"] + row["comments"] + row["shares"]
            metrics.append([day.strftime("%m/%d/%Y"), int(row["impressions"]), 0, int(row["impressions"]),
                            int(row["clicks"]), 0, int(row["clicks"]), int(row["likes"]), int(row["comments"]),
                            int(row["shares"]), round(engaged / row["impressions"], 4) if row["impressions"] else 0])
        posts = workbook.create_sheet("All posts")
        posts.append(["All posts: organic and sponsored posts published in the selected date range. Metrics are "
                      "lifetime values up to the export date."])
        posts.append(["Post title", "Post link", "Post type", "Posted by", "Created date", "Audience", "Impressions",
                      "Clicks", "Click through rate (CTR)", "Likes", "Comments", "Reposts", "Follows",
                      "Engagement rate", "Content Type"])
        created = pd.DatetimeIndex(chunk["local"].to_numpy()).strftime("%m/%d/%Y")
        texts, links, video = chunk["text"].tolist(), chunk["url"].tolist(), chunk["video"].tolist()
        for k in range(len(chunk)):
            impressions = int(m["impressions"][k])
            engaged = int(m["clicks"][k] + m["likes"][k] + m["comments_final"][k] + m["shares"][k])
            posts.append([texts[k], links[k], "Organic", admins[k % len(admins)], created[k],
                          "All followers", impressions, int(m["clicks"][k]),
                          round(m["clicks"][k] / impressions, 4) if impressions else 0, int(m["likes"][k]),
                          int(m["comments_final"][k]), int(m["shares"][k]), int(m["follows"][k]),
                          round(engaged / impressions, 4) if impressions else 0,
                          "Video" if video[k] else "Image"])
        stamp = int((datetime(end.year, end.month, end.day) + timedelta(days=1) - datetime(1970, 1, 1)).total_seconds())
        name = f"riverbend-community-trust_content_{stamp * 1000}.xlsx"
        _save_workbook(workbook, out / name)
        written[name] = len(chunk)
    return written


_TAG_HTML = re.compile(r"#(\w+)")
_LINK_HTML = re.compile(r"(https?://\S+|riverbendtrust\.org/\S*)")


def _mastodon_html(text: str) -> str:
    """A status as Mastodon stores it: paragraphs, linked URLs and linked hashtags."""
    import html

    def link(match: re.Match[str]) -> str:
        url = match.group(1)
        href = url if url.startswith("http") else "https://" + url
        return f'<a href="{href}" target="_blank" rel="nofollow noopener noreferrer">{url}</a>'

    def tag(match: re.Match[str]) -> str:
        return (f'<a href="https://mastodon.social/tags/{match.group(1).lower()}" class="mention hashtag" '
                f'rel="tag">#<span>{match.group(1)}</span></a>')

    escaped = _TAG_HTML.sub(tag, _LINK_HTML.sub(link, html.escape(text, quote=False)))
    return "".join(f"<p>{part}</p>" for part in escaped.split("\n") if part.strip())


def _write_mastodon(out: Path, org: pd.DataFrame, tl: _Timeline) -> dict[str, int]:
    mast = org[org["platform"] == "mastodon"]
    actor = f"https://mastodon.social/users/{ORGANISATION['handle']}"
    m = _metrics_at(mast, tl.end + timedelta(days=1))
    items = []
    for k in range(len(mast)):
        status_id = mast["post_id"].iat[k]
        published = pd.Timestamp(mast["utc"].iat[k]).strftime("%Y-%m-%dT%H:%M:%SZ")
        if mast["share_of"].iat[k]:
            items.append({
                "id": f"{actor}/statuses/{status_id}/activity", "type": "Announce", "actor": actor,
                "published": published, "to": ["https://www.w3.org/ns/activitystreams#Public"],
                "cc": [f"{actor}/followers"], "object": mast["share_of"].iat[k],
            })
            continue
        text = mast["text"].iat[k]
        items.append({
            "id": f"{actor}/statuses/{status_id}/activity", "type": "Create", "actor": actor, "published": published,
            "to": ["https://www.w3.org/ns/activitystreams#Public"], "cc": [f"{actor}/followers"],
            "object": {
                "id": f"{actor}/statuses/{status_id}", "type": "Note", "summary": None, "inReplyTo": None,
                "published": published, "url": mast["url"].iat[k], "attributedTo": actor,
                "to": ["https://www.w3.org/ns/activitystreams#Public"], "cc": [f"{actor}/followers"],
                "sensitive": False, "content": _mastodon_html(text), "contentMap": {"en": _mastodon_html(text)},
                "attachment": [],
                "tag": [{"type": "Hashtag", "href": f"https://mastodon.social/tags/{t.lower()}",
                         "name": f"#{t.lower()}"} for t in _TAG_HTML.findall(text)],
                "replies": {"id": f"{actor}/statuses/{status_id}/replies", "type": "Collection",
                            "totalItems": int(m["comments_final"][k])},
                "likes": {"id": f"{actor}/statuses/{status_id}/likes", "type": "Collection",
                          "totalItems": int(m["likes"][k])},
                "shares": {"id": f"{actor}/statuses/{status_id}/shares", "type": "Collection",
                           "totalItems": int(m["shares"][k])},
            },
        })
    context = ["https://www.w3.org/ns/activitystreams", {"ostatus": "http://ostatus.org#", "sensitive": "as:sensitive",
                                                          "Hashtag": "as:Hashtag"}]
    outbox = {"@context": context, "id": "outbox.json", "type": "OrderedCollection", "totalItems": len(items),
              "orderedItems": items}
    actor_doc = {
        "@context": context, "id": actor, "type": "Person", "preferredUsername": ORGANISATION["handle"],
        "name": ORGANISATION["name"], "url": f"https://mastodon.social/@{ORGANISATION['handle']}",
        "summary": "<p>Local charity working with communities across the Riverbend valley.</p>",
        "published": f"{tl.start.isoformat()}T00:00:00Z", "outbox": "outbox.json",
    }
    empty = {"@context": "https://www.w3.org/ns/activitystreams", "type": "OrderedCollection", "orderedItems": []}
    members = [
        ("actor.json", json.dumps(actor_doc, ensure_ascii=False, indent=2).encode("utf-8")),
        # compact: the pretty printer is pure Python and slow for a large outbox
        ("outbox.json", json.dumps(outbox, ensure_ascii=False).encode("utf-8")),
        ("likes.json", json.dumps({**empty, "id": "likes.json"}, indent=2).encode("utf-8")),
        ("bookmarks.json", json.dumps({**empty, "id": "bookmarks.json"}, indent=2).encode("utf-8")),
    ]
    digest = f"{zlib.crc32(members[1][1]):08x}"
    name = f"archive-{tl.end + timedelta(days=1):%Y%m%d}083000-{digest}.zip"
    _fixed_zip(out / name, members)
    return {name: len(items)}


# --- truth --------------------------------------------------------------------------------------------------------

def _compound_lift(posts: pd.DataFrame) -> dict[str, float]:
    """Mean VADER compound in December minus other months, from each template's mean score.

    Each text's expected compound is the mean score of its template over (up to 40 of) its generated fills,
    so the figure is the DGP's expected mix, not one draw's noise; non-English texts are left out, as the
    sentiment stage leaves them out.
    """
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    english = posts[posts["english"] & (posts["text"] != "")]
    sample = english.groupby("key", sort=True).head(40)
    scores = pd.Series([analyzer.polarity_scores(t)["compound"] for t in sample["text"]], index=sample.index)
    expected = english["key"].map(scores.groupby(sample["key"]).mean())
    out = {}
    for name, rows in (("all", english.index), ("employee", english.index[english["population"] == "employee"]),
                       ("organization", english.index[english["population"] == "organization"])):
        december = english.loc[rows, "december"].to_numpy()
        values = expected.loc[rows].to_numpy()
        out[name] = float(values[december].mean() - values[~december].mean()) if december.any() else float("nan")
    return out


def _amplifiers_by_quarter(reposts: pd.DataFrame) -> dict[str, int]:
    """Distinct employees who shared an organisation post, per local calendar quarter."""
    stamps = pd.DatetimeIndex(reposts["local"].to_numpy())
    quarters = [f"{y}-Q{q}" for y, q in zip(stamps.year, stamps.quarter, strict=True)]
    frame = pd.DataFrame({"quarter": quarters, "author": reposts["author"].to_numpy()})
    return {q: int(n) for q, n in frame.groupby("quarter")["author"].nunique().items()}


def _mission_links(org: pd.DataFrame) -> dict[str, Any]:
    """Organisation posts linking to the donate and volunteer pages, per platform, as the exports show
    them (X shows every link as a t.co short link, so its posts count under ``short_links``)."""
    text = org["text"].str.lower()
    out: dict[str, Any] = {}
    for page in ("donate", "volunteer"):
        linked = text.str.contains(f"riverbendtrust.org/{page}", regex=False)
        out[page] = {p: int((linked & (org["platform"] == p)).sum()) for p in PLATFORMS}
    out["short_links"] = {p: int((text.str.contains("https://t.co/", regex=False) & (org["platform"] == p)).sum())
                          for p in PLATFORMS}
    return out


def _revision_truth(posts: pd.DataFrame, tl: _Timeline) -> dict[str, Any]:
    month = _month_index(posts["local"].to_numpy(), tl.start)
    revision = _month_index(np.array([np.datetime64(tl.revision, "s")]), tl.start)[0]
    adherence = 1 - posts["p"].to_numpy()
    after = (month >= revision) & (month <= revision + 5)
    before = (month >= revision - 6) & (month <= revision - 1)
    return {
        "version": "2.0", "effective_on": tl.revision.isoformat(),
        "adherence_level_change": round(float(adherence[after].mean() - adherence[before].mean()), 6),
        "odds_ratio": round(float(np.exp(REVISION_LOGIT)), 6),
        "adherence_before": round(float(adherence[before].mean()), 6),
        "adherence_after": round(float(adherence[after].mean()), 6),
    }


def _training_truth(posts: pd.DataFrame, completed: np.ndarray, tl: _Timeline) -> dict[str, Any]:
    """The DiD in the estimator's terms: treated = authors with a trained post, post = from the rollout start."""
    treated_authors = np.unique(posts.loc[posts["trained"], "author"].to_numpy())
    treated = np.isin(posts["author"].to_numpy(), treated_authors)
    post = posts["utc"].to_numpy() >= _as_of_utc(tl.training_start)
    p = posts["p"].to_numpy()

    def change(group: np.ndarray) -> float:
        return float(p[group & post].mean() - p[group & ~post].mean())

    trained = posts["trained"].to_numpy()
    return {
        "module": TRAINING_MODULE, "odds_ratio": TRAINING_ODDS_RATIO,
        "violation_risk_difference": round(change(treated) - change(~treated), 6),
        "treated_share": 0.5,
        "rollout": f"{tl.training_start.isoformat()} .. {tl.training_end.isoformat()}",
        "trained_employees": int((~np.isnat(completed)).sum()),
        "risk_difference_on_trained_posts": round(float((p[trained] - posts["p_untrained"].to_numpy()[trained]).mean()),
                                                  6) if trained.any() else None,
        "did_definition": "treated = employees with at least one post after their completion; post = published "
                          "at or after the rollout start (midnight, organisation time zone)",
    }


def _survey_truth(sims: list[dict[str, Any]], instrument: _Instrument) -> dict[str, Any]:
    constructs = sorted({str(i["construct"]) for i in instrument.likert if i.get("construct")})
    gaps = {}
    asked = [i.get("column") for i in instrument.demographic]
    for construct in constructs:
        columns = [j for j, i in enumerate(instrument.likert) if i.get("construct") == construct]
        low, rest = [], []
        for sim in sims:
            # the gap is estimated among finished respondents who gave their department
            keep = sim["finished"].copy()
            if "department" in asked:
                keep &= sim["demographics"][asked.index("department")] >= 0
            score = sim["expected"][:, columns].mean(axis=1)
            low.append(score[keep & (sim["department"] == LOW_DEPARTMENT)])
            rest.append(score[keep & (sim["department"] != LOW_DEPARTMENT)])
        gaps[construct] = round(float(np.concatenate(low).mean() - np.concatenate(rest).mean()), 6)
    invited = sum(s["invited"] for s in sims)
    answered = sum(len(s["people"]) for s in sims)
    return {
        "low_department": LOW_DEPARTMENT,
        "construct_gap": round(float(np.mean(list(gaps.values()))), 6),
        "constructs": constructs,
        "construct_gaps": gaps,
        "planted_item_shift": LIKERT_SHIFT,
        "response_rate": RESPONSE_RATE,
        "observed_response_rate": round(answered / invited, 6) if invited else None,
        "waves": [{"wave": s["wave"], "format": s["format"], "file": s["file"], "opens": s["opens"].isoformat(),
                   "closes": s["closes"].isoformat(), "invited": int(s["invited"]), "responses": len(s["people"]),
                   "finished": int(s["finished"].sum())} for s in sims],
    }


# --- the organisation's own files ------------------------------------------------------------------------------

def _roster_frame(rng: np.random.Generator, people: pd.DataFrame, tl: _Timeline) -> pd.DataFrame:
    start = np.datetime64(tl.start, "D")
    at = rng.random(len(people)) < 0.7
    ended = people["end_day"].to_numpy() < 10**6
    return pd.DataFrame({
        "employee_id": people["employee_id"], "full_name": people["full_name"], "email": people["email"],
        "department": people["department"], "role_level": people["role_level"],
        "start_date": (start + people["start_day"].to_numpy().astype("timedelta64[D]")).astype(str),
        "end_date": np.where(ended, (start + (np.where(ended, people["end_day"].to_numpy(), 0) - 1)
                                     .astype("timedelta64[D]")).astype(str), ""),
        "x_handle": [f"@{h}" if h and a else h for h, a in zip(people["x"], at, strict=True)],
        "instagram_handle": people["instagram"], "linkedin_handle": people["linkedin"],
        "mastodon_handle": people["mastodon"], "facebook_name": people["facebook"],
        "recognition_opt_in": np.where(people["recognition_opt_in"], "yes", "no"),
        "display_name": people["display_name"],
    })


def _iso_z(utc: np.ndarray) -> list[str]:
    return list(pd.DatetimeIndex(np.asarray(utc, dtype="datetime64[s]")).strftime("%Y-%m-%dT%H:%M:%SZ"))


def _truth_json(truth: dict[str, Any]) -> str:
    """Indented JSON with one line per leak (the indenting encoder is slow for long lists)."""
    leaks = truth["leaks"]
    text = json.dumps({**truth, "leaks": "@LEAKS@"}, indent=2, ensure_ascii=False)
    lines = ",\n".join("    " + json.dumps(leak, ensure_ascii=False) for leak in leaks)
    return text.replace('"@LEAKS@"', "[\n" + lines + "\n  ]" if leaks else "[]") + "\n"


def _check_arguments(out: Any, seed: Any, employees: Any, months: Any, end: Any, scale: Any) -> None:
    if not isinstance(out, (str, Path)):
        raise ValueError(f"out must be a folder path, got {type(out).__name__}")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if not isinstance(employees, (int, np.integer)) or not 30 <= employees <= 3000:
        raise ValueError(f"employees must be an integer from 30 to 3000 (the headcount), got {employees!r}")
    if not isinstance(months, (int, np.integer)) or not 18 <= months <= 60:
        raise ValueError(f"months must be an integer from 18 to 60 (the revision needs 6 months either side and "
                         f"the training needs months after its rollout), got {months!r}")
    if not isinstance(end, date) or isinstance(end, datetime):
        raise ValueError(f"end must be a datetime.date (the last day covered), got {end!r}")
    if not isinstance(scale, (int, float)) or not 0 < scale <= 200:
        raise ValueError(f"scale must be a number in (0, 200] multiplying post and comment volume, got {scale!r}")


# --- the generator ------------------------------------------------------------------------------------------------

def generate(
    out: str | Path,
    *,
    seed: int = 7,
    employees: int = 250,
    months: int = 24,
    end: date = date(2026, 9, 30),
    scale: float = 1.0,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Write a realistic, seeded set of raw exports with planted effects, and their ``truth.json``.

    Files with the same names in ``out`` are overwritten; other files are left alone (use an empty folder).
    The same arguments always give byte-identical files.

    Parameters
    ----------
    out : str or Path
        Folder to write into (created if missing).
    seed : int, default 7
        Seed of every random draw.
    employees : int, default 250
        Headcount at the start (30-3000); leavers are replaced by joiners, so the roster holds more people.
    months : int, default 24
        Length of the window (18-60 months) ending in the month of ``end``. Policy 2.0 takes effect six
        months after the start; version 3.0 and the training rollout start nine months before the end
        (never earlier than 12 months after the start).
    end : datetime.date, default 2026-09-30
        Last day covered.
    scale : float, default 1.0
        Multiplies the volume of posts and audience comments (1.0 is about 15,000 employee posts for 250
        people over 24 months). Surveys and organisation files do not change with it.
    progress : callable, optional
        Called with a short message after each stage.

    Returns
    -------
    dict
        The truth written to ``truth.json``: ``revision``, ``training``, ``survey``,
        ``sentiment_seasonality``, ``leaks``, ``themes``, ``amplification``, ``recognition`` (roster ids of
        the planted opted-in people, never names), ``mission_links``, ``violations``, ``counts``,
        ``files`` (file name -> format id), ``rows`` (file name -> data records), ``expected_rejects``
        (file name -> records an adapter must reject), ``organisation``, ``parameters``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     truth = generate(folder, employees=30, months=18, scale=0.1)
    ...     (Path(folder) / "truth.json").exists(), truth["survey"]["low_department"]
    (True, 'Fundraising')
    >>> sorted(set(truth["files"].values()))[:4]
    ['comments', 'donors', 'google_forms', 'incidents']
    """
    _check_arguments(out, seed, employees, months, end, scale)
    say = progress or (lambda message: None)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    tl = _timeline(end, int(months))
    instrument = _instrument(config.CODEBOOK_PATH)
    role_item = next((i for i in instrument.demographic if i.get("column") == "role_level"), None)
    roles = [str(c) for c in (role_item or {}).get("choices") or ["Individual contributor", "Team lead", "Manager",
                                                                   "Director"]]
    people = _make_people(_stream(seed, "people"), int(employees), tl, roles)
    donors = _make_donors(_stream(seed, "donors"))
    completed = _assign_training(_stream(seed, "training"), people, tl)
    say(f"{len(people)} people, {len(donors)} donors")

    pools_rng = _stream(seed, "pools")
    acknowledged = [name if name not in _FOUNDATIONS else f"the {name}"
                    for name in donors.loc[donors["public_acknowledgement"] == "yes", "donor_name"]]
    pools: dict[str, Sequence[str]] = {
        **_violation_pools(pools_rng, people, donors),
        "colleague": [f"@{h}" for h in people["x"] if h] or people["full_name"].tolist(),
        "colleague_name": people["full_name"].tolist(),
        "employee_name": people["full_name"].tolist(),
        "acknowledged": acknowledged,
        "story_url": ("https://riverbendtrust.org/stories", "riverbendtrust.org/news/briefing",
                      "https://riverbendtrust.org/campaigns"),
        "public_email": ("jo.bloggs77@gmail.com", "sam.p.1990@outlook.com", "kev.harbour@yahoo.co.uk",
                         "lindaw@btinternet.com"),
    }
    writer = _Writer(pools)
    org = _org_posts(_stream(seed, "org-posts"), tl, float(scale), writer)
    writer.org = org
    posts = _employee_posts(_stream(seed, "employee-posts"), people, completed, tl, float(scale), org, writer)
    recognised = _plant_recognition(_stream(seed, "recognition"), posts, people)
    public = _unattributed_posts(_stream(seed, "public-posts"), tl, max(3, round(0.015 * len(posts))), writer)
    comments = _comments(_stream(seed, "comments"), org, tl, writer)
    say(f"{len(org)} organisation posts, {len(posts)} employee posts, {len(comments)} comments")

    files: dict[str, str] = {}
    rows: dict[str, int] = {}

    def record(written: dict[str, int], format_id: str) -> None:
        for name, count in written.items():
            files[name], rows[name] = format_id, int(count)

    record(_write_x_activity(folder, org, tl), "x_activity")
    record(_write_x_content(folder, org, tl), "x_content")
    meta, meta_rejects = _write_meta(folder, org, tl)
    record(meta, "meta_posts")
    record(_write_instagram(folder, org, tl), "instagram")
    admins = people.loc[people["department"] == "Communications", "full_name"].head(3).tolist()
    record(_write_linkedin(folder, org, tl, admins or ["Comms Team"]), "linkedin")
    record(_write_mastodon(folder, org, tl), "mastodon")
    say("organisation post exports written")

    monitoring = pd.concat([
        pd.DataFrame({"platform": posts["platform"], "handle": posts["handle"], "utc": posts["utc"],
                      "text": posts["text"], "url": posts["url"], "likes": posts["likes"],
                      "comments": posts["comments"], "shares": posts["shares"]}),
        public,
    ], ignore_index=True).sort_values("utc", kind="stable")
    monitoring.insert(2, "posted_at", _iso_z(monitoring["utc"].to_numpy()))
    _write_frame(folder / "monitoring_posts.csv", monitoring.drop(columns="utc"))
    record({"monitoring_posts.csv": len(monitoring)}, "monitoring")
    _write_frame(folder / "audience_comments.csv", comments.assign(
        published_at=_iso_z(comments["published_at"].to_numpy())))
    record({"audience_comments.csv": len(comments)}, "comments")
    say("monitoring and comments written")

    _write_frame(folder / "roster.csv", _roster_frame(_stream(seed, "roster"), people, tl))
    record({"roster.csv": len(people)}, "roster")
    _write_frame(folder / "donors_private.csv", donors)
    record({"donors_private.csv": len(donors)}, "donors")
    incidents = _incidents(_stream(seed, "incidents"), posts, people, tl, int(employees))
    fmt = "%Y-%m-%d %H:%M"
    _write_frame(folder / "incidents.csv", pd.DataFrame({
        "incident_id": incidents["incident_id"],
        "reported_at": _local_text(incidents["reported"].to_numpy(), fmt),
        "occurred_at": _local_text(incidents["occurred"].to_numpy().astype("datetime64[s]"), fmt),
        "resolved_at": _local_text(incidents["resolved"].to_numpy(), fmt),
        "employee_email": incidents["employee_email"], "department": incidents["department"],
        "policy_area": incidents["policy_area"], "severity": incidents["severity"],
        "detection": incidents["detection"], "post_url": incidents["post_url"], "summary": incidents["summary"],
    }))
    record({"incidents.csv": len(incidents)}, "incidents")
    trainings = _trainings(_stream(seed, "trainings"), people, completed, tl)
    _write_frame(folder / "trainings.csv", trainings[["employee_email", "module", "completed_at"]])
    record({"trainings.csv": len(trainings)}, "trainings")
    _write_frame(folder / "policy_versions.csv", _policy_versions(tl))
    record({"policy_versions.csv": 3}, "policy_versions")
    say("organisation files written")

    survey_rng = _stream(seed, "surveys")
    item_means = _item_means(survey_rng, instrument.likert)
    questions = _questions(instrument)
    sims = []
    for wave in _waves(tl):
        sim = _simulate_wave(survey_rng, wave, people, tl, instrument, item_means, writer)
        name = _survey_file_name(wave, len(sim["people"]))
        path = folder / name
        kind = wave["format"]
        if kind == "qualtrics":
            zone = "America/Denver" if sum(s["format"] == "qualtrics" for s in sims) == 0 else TZ
            count = _write_qualtrics(path, sim, questions, instrument, survey_rng, zone=zone)
        elif kind == "qualtrics_legacy":
            count = _write_qualtrics_legacy(path, sim, questions, instrument, survey_rng)
        elif kind == "surveymonkey":
            count = _write_surveymonkey(path, sim, questions, instrument, survey_rng)
        elif kind == "google_forms":
            count = _write_google_forms(path, sim, questions, instrument)
        else:
            count = _write_ms_forms(path, sim, questions, instrument)
        record({name: count}, kind)
        sims.append({**sim, "file": name})
    say(f"{len(sims)} survey waves written")

    texts = pd.concat([
        pd.DataFrame({"key": posts["key"], "text": posts["text"], "december": posts["december"],
                      "english": posts["category"] != "non_english", "population": "employee"}),
        pd.DataFrame({"key": org["key"], "text": org["text"], "december": org["december"], "english": True,
                      "population": "organization"}),
    ], ignore_index=True)
    lift = _compound_lift(texts)
    leak_kinds = ("donor_name", "email", "phone", "gift_amount")
    leaks = posts[posts["kind"].isin(leak_kinds)]
    reposts = posts[posts["category"] == "repost"]
    truth: dict[str, Any] = {
        "revision": _revision_truth(posts, tl),
        "policy_versions": {"1.0": tl.start.isoformat(), "2.0": tl.revision.isoformat(),
                            "3.0": tl.training_start.isoformat()},
        "training": _training_truth(posts, completed, tl),
        "survey": _survey_truth(sims, instrument),
        "sentiment_seasonality": {"peak_month": 12, "compound_lift": round(lift["all"], 6),
                                  "compound_lift_by_population": {k: round(v, 6) for k, v in lift.items()
                                                                  if k != "all"}},
        "leaks": [{"post_id": _post_id_from_url(u), "platform": p, "kind": k, "url": u, "handle": h}
                  for u, p, k, h in zip(leaks["url"], leaks["platform"], leaks["kind"], leaks["handle"], strict=True)],
        "themes": {t: int((posts["theme"] == t).sum()) for t in THEMES},
        "org_themes": {t: int((org["theme"] == t).sum()) for t in THEMES if t != "personal"},
        "amplification": {"employee_reposts": len(reposts),
                          "by_platform": {p: int((reposts["platform"] == p).sum()) for p in PLATFORMS},
                          "org_posts_amplified": int(reposts["repost_of"].nunique()),
                          "amplifiers_by_quarter": _amplifiers_by_quarter(reposts)},
        "recognition": {"employee_ids": recognised, "count": len(recognised),
                        "engagement_multiplier": RECOGNISED_ENGAGEMENT, "min_posts": RECOGNISED_MIN_POSTS,
                        "team": RECOGNISED_TEAM, "team_engagement_multiplier": RECOGNISED_TEAM_ENGAGEMENT},
        "mission_links": _mission_links(org),
        "violations": {
            "by_kind": {k: int((posts["kind"] == k).sum()) for k in VIOLATION_KINDS},
            "kinds": {k: {"area": a, "severity": s} for k, (a, s) in VIOLATION_KINDS.items()},
            "total": int(posts["violation"].sum()),
            "disclosure_markers": list(DISCLOSURE_MARKERS),
            "dgp": {"base_logit": BASE_LOGIT, "department_logit": DEPARTMENT_LOGIT, "revision_logit": REVISION_LOGIT,
                    "training_logit": float(np.log(TRAINING_ODDS_RATIO)), "seasonal": 0.0},
        },
        "counts": {
            "roster": len(people), "employee_posts": len(posts), "unattributed_posts": len(public),
            "non_english_posts": int((posts["category"] == "non_english").sum()),
            "org_posts": {p: int((org["platform"] == p).sum()) for p in PLATFORMS},
            "audience_comments": len(comments), "respondents": sum(len(s["people"]) for s in sims),
            "incidents": len(incidents), "trainings": len(trainings),
        },
        "files": files,
        "rows": rows,
        "expected_rejects": meta_rejects,
        "organisation": dict(ORGANISATION),
        "parameters": {"seed": int(seed), "employees": int(employees), "months": int(months),
                       "end": end.isoformat(), "scale": float(scale), "start": tl.start.isoformat()},
    }
    (folder / "truth.json").write_text(_truth_json(truth), encoding="utf-8")
    say("truth.json written")
    return truth
