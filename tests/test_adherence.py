"""Policy rules, findings, evaluation, dismissals and adherence rates."""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from file_edits import rewrite_keeping_stat
from statsmodels.stats.proportion import proportion_confint

from analytics import adherence, privacy
from analytics.config import get_settings

DATA = Path(__file__).parent / "data"
REQUIRED_RULES = {
    "donor_name", "email", "phone", "gift_amount", "internal_only", "beneficiary_details",
    "undisclosed_affiliation", "profanity", "harassment",
}


@pytest.fixture(scope="module")
def labelled() -> pd.DataFrame:
    frame = pd.read_csv(DATA / "adherence_eval.csv", keep_default_na=False)
    frame["employee_post"] = frame["employee_post"].astype(str).str.lower().eq("true")
    return frame


@pytest.fixture(scope="module")
def donors() -> list[str]:
    return pd.read_csv(DATA / "adherence_eval_donors.csv")["name"].tolist()


@pytest.fixture(scope="module")
def findings(labelled, donors) -> pd.DataFrame:
    return adherence.find_violations(labelled["text"], donors=donors, employee_posts=labelled["employee_post"])


def _fired(found: pd.DataFrame) -> dict[int, set[str]]:
    return found.groupby("text_index")["rule_id"].apply(set).to_dict()


# --- the rules file --------------------------------------------------------------------------------

def test_rules_file_has_the_required_rules_with_areas_and_explanations():
    frame = adherence.rules_frame()
    assert set(frame["rule_id"]) >= REQUIRED_RULES
    assert frame["area"].isin(adherence.AREAS).all()
    assert frame["severity"].isin(adherence.SEVERITIES).all()
    assert (frame["explanation"].str.len() > 40).all()
    assert frame.set_index("rule_id").loc["undisclosed_affiliation", "area"] == "disclosure"
    assert frame.set_index("rule_id").loc["harassment", "area"] == "conduct"


def test_bad_rules_file_is_rejected_with_a_clear_message(tmp_path):
    path = tmp_path / "rules.yml"
    path.write_text("rules:\n  - {id: x, area: politics, severity: high, explanation: e, match: [{keywords: [a]}]}\n")
    with pytest.raises(ValueError, match="area 'politics'"):
        adherence.load_rules(path)
    path.write_text(
        "rules:\n  - {id: x, area: conduct, severity: high, explanation: e, match: [{regex: '<<nope>>'}]}\n"
    )
    with pytest.raises(ValueError, match="<<nope>>"):
        adherence.load_rules(path)


# --- the evaluation set ----------------------------------------------------------------------------

def test_evaluation_set_is_large_enough(labelled):
    assert len(labelled) >= 300
    counts = labelled["labels"].str.split(";").explode().value_counts()
    for rule_id in REQUIRED_RULES:
        assert counts.get(rule_id, 0) >= 20, rule_id
    assert (labelled["labels"] == "").sum() >= 100


def test_every_rule_has_precision_and_recall_of_at_least_0_9(labelled, donors):
    evaluation = adherence.evaluate_rules(labelled, donors=donors).set_index("rule_id")
    assert set(evaluation.index) >= REQUIRED_RULES
    weak = evaluation[(evaluation["precision"] < 0.9) | (evaluation["recall"] < 0.9)]
    assert weak.empty, adherence.format_evaluation(weak.reset_index())
    assert (evaluation["tp"] + evaluation["fn"] == evaluation["n_positive"]).all()


def test_format_evaluation_prints_one_line_per_rule(labelled, donors):
    evaluation = adherence.evaluate_rules(labelled, donors=donors)
    lines = adherence.format_evaluation(evaluation).splitlines()
    assert len(lines) == len(evaluation) + 1
    assert lines[0].split()[:2] == ["rule", "n_positive"]
    assert any(line.startswith("phone ") for line in lines)


def test_evaluate_rules_rejects_unknown_labels_and_missing_columns():
    with pytest.raises(ValueError, match="not rule ids"):
        adherence.evaluate_rules(pd.DataFrame({"text": ["x"], "labels": ["swearing"], "employee_post": [True]}))
    with pytest.raises(ValueError, match="employee_post"):
        adherence.evaluate_rules(pd.DataFrame({"text": ["x"], "labels": [""]}))


# --- evidence never leaks ---------------------------------------------------------------------------

def test_evidence_never_contains_a_donor_email_phone_or_amount(labelled, donors, findings):
    amount = re.compile(r"[$£€]\s?\d|\b\d[\d,]*\s?(?:k|grand|pounds|dollars|euros)\b|\b(?:usd|gbp|eur)\s?\d", re.I)
    org = tuple(get_settings().organisation_domains)
    assert len(findings) > 200
    for text_index, evidence in zip(findings["text_index"], findings["evidence_redacted"], strict=True):
        text = labelled["text"].iloc[text_index]
        lowered = evidence.lower()
        for donor in donors:
            assert donor.lower() not in " ".join(lowered.split()), (donor, evidence)
        for email in privacy.EMAIL_RE.findall(text):
            if not email.lower().endswith(org):
                assert email.lower() not in lowered, evidence
        for phone in privacy.PHONE_RE.findall(text):
            assert phone not in evidence, evidence
        assert not amount.search(evidence), evidence


def test_evidence_names_the_type_of_what_it_hides(donors):
    found = adherence.find_violations(
        ["So grateful to Margaret Ellison for the $5,000 gift — call me on +44 20 7946 0958"], donors=donors
    ).set_index("rule_id")
    assert "[DONOR]" in found.loc["donor_name", "evidence_redacted"]
    assert "[AMOUNT] gift" in found.loc["gift_amount", "evidence_redacted"]
    assert "[PHONE]" in found.loc["phone", "evidence_redacted"]
    again = adherence.find_violations(["Aisha Rahman's cheque arrived — thank you Aisha!"], donors=donors)
    assert again["evidence_redacted"].tolist() == ["[DONOR]'s cheque arrived — thank you [DONOR]!"]


def test_a_long_text_cut_at_the_window_edge_does_not_leak_half_a_name(donors):
    text = "x " * 30 + "profanity wtf " + "y " * 11 + "Margaret Ellison" + " z" * 30
    evidence = adherence.find_violations([text], donors=donors)["evidence_redacted"].tolist()
    assert evidence and all("Ellison" not in e and "Margaret" not in e for e in evidence)


# --- raw and scrubbed text --------------------------------------------------------------------------

def test_rules_find_the_same_on_scrubbed_text(labelled, donors, findings):
    org = "|".join(re.escape(d) for d in get_settings().organisation_domains)
    # the Scrubber also replaces the organisation's own addresses by [EMAIL] (see the next test)
    keep = ~labelled["text"].str.contains(rf"@(?:{org})", regex=True)
    scrubber = privacy.Scrubber(donors=donors)
    scrubbed = labelled["text"].map(scrubber.scrub)
    assert scrubbed.str.contains(r"\[DONOR\]").sum() >= 20
    on_scrubbed = adherence.find_violations(scrubbed, employee_posts=labelled["employee_post"])
    raw, clean = _fired(findings), _fired(on_scrubbed)
    for position in np.flatnonzero(keep.to_numpy()):
        assert raw.get(position, set()) == clean.get(position, set()), labelled["text"].iloc[position]


def test_scrubbed_organisation_address_is_not_a_finding():
    domains = get_settings().organisation_domains
    scrubbed = privacy.Scrubber(keep_domains=domains).scrub("Questions? Email info@riverbendtrust.org")
    assert "info@riverbendtrust.org" in scrubbed
    assert adherence.find_violations([scrubbed], employee_posts=[False]).empty
    personal = privacy.Scrubber(keep_domains=domains).scrub("Questions? Email ada.lee@gmail.com")
    assert not adherence.find_violations([personal], employee_posts=[False]).empty


@pytest.mark.parametrize("text", ["Ask our new coordinator sam.oduya@riverbendtrust.org for the rota",
                                  "Ask sam_oduya [at] riverbendtrust [dot] org for the rota"])
def test_a_colleague_s_own_address_at_the_organisation_s_domain_is_personal(text):
    """The domain is the organisation's; the address is a person's (one not on the roster, or forgotten, is
    not a token by then): the scrub redacts it and the rule finds it, scrubbed or not, as for any other."""
    domains = get_settings().organisation_domains
    scrubbed = privacy.Scrubber(keep_domains=domains).scrub(text)
    assert "@" not in scrubbed or "[EMAIL]" in scrubbed, scrubbed
    for shown in (text, scrubbed):
        found = adherence.find_violations([shown], employee_posts=[True])
        assert "email" in set(found["rule_id"]), shown
    public = privacy.Scrubber(keep_domains=domains).scrub("Press enquiries: press-office@riverbendtrust.org")
    assert "press-office@riverbendtrust.org" in public
    assert adherence.find_violations([public], employee_posts=[False]).empty


def test_prefilter_never_hides_a_finding(labelled, donors, findings):
    rng = np.random.default_rng(7)
    words = " ".join(labelled["text"]).split()
    shuffled = [" ".join(rng.choice(words, size=12)) for _ in range(400)]
    texts = pd.Series([*labelled["text"], *shuffled])
    fast = adherence.find_violations(texts, donors=donors)
    slow = adherence._detect(texts, donors=donors, use_prefilter=False)
    pd.testing.assert_frame_equal(fast, slow)


# --- the API ---------------------------------------------------------------------------------------

def test_text_index_keeps_the_series_labels_and_disclosure_needs_employee_posts():
    texts = pd.Series(["Come to the @riverbendtrust fair!", "Come to the @riverbendtrust fair!", None, "wtf"],
                      index=["p:1", "p:2", "p:3", "p:4"])
    found = adherence.find_violations(texts, employee_posts=[True, False, True, False])
    assert list(found.columns) == adherence.FINDINGS_COLUMNS
    assert found[["text_index", "rule_id"]].values.tolist() == [
        ["p:1", "undisclosed_affiliation"], ["p:4", "profanity"]
    ]
    with pytest.raises(ValueError, match="one flag per text"):
        adherence.find_violations(texts, employee_posts=[True])


def test_empty_input_gives_an_empty_frame_with_the_columns():
    found = adherence.find_violations([])
    assert found.empty and list(found.columns) == adherence.FINDINGS_COLUMNS


def test_fifty_thousand_hard_negatives_take_a_few_seconds(labelled):
    # the evaluation's negatives are built to pass the prefilters, the slow case: ~50 us a text
    # (ordinary posts mostly fail the prefilters: one core does a million in under 20 s). CPU seconds of this
    # process (DuckDB's threads included), not wall: the wall clock also counts a busy machine's other work
    everyday = labelled.loc[labelled["labels"] == "", "text"].tolist()
    texts = [everyday[i % len(everyday)] + f" #{i}" for i in range(50_000)]
    adherence.load_rules()
    start = time.process_time()
    found = adherence.find_violations(texts)
    elapsed = time.process_time() - start
    assert found.empty or set(found["rule_id"]) <= REQUIRED_RULES
    # five times the estimate: room for a slow machine, while work growing with the square of the texts would
    # take hours
    estimate = 50e-6 * len(texts)
    assert elapsed < 5 * estimate, f"{elapsed:.1f} CPU s (estimate {estimate:.1f})"


# --- dismissals ------------------------------------------------------------------------------------

def test_load_dismissals_missing_file_and_round_trip(tmp_path):
    empty = adherence.load_dismissals(tmp_path / "none.csv")
    assert empty.empty and list(empty.columns) == adherence.DISMISSAL_COLUMNS
    path = tmp_path / "dismissals.csv"
    path.write_text("post_uid,rule_id,reason\nx:1, phone ,order number\nx:2,*,quoted a news story\n")
    loaded = adherence.load_dismissals(path)
    assert loaded.values.tolist() == [["x:1", "phone", "order number"], ["x:2", "*", "quoted a news story"]]
    findings = pd.DataFrame({"post_uid": ["x:1", "x:1", "x:2", "x:3"],
                             "rule_id": ["phone", "email", "profanity", "phone"]})
    assert adherence.apply_dismissals(findings, loaded)["dismissed"].tolist() == [True, False, True, False]
    assert "dismissed" not in findings.columns
    path.write_text("post,rule\nx,y\n")
    with pytest.raises(ValueError, match="post_uid"):
        adherence.load_dismissals(path)


def test_shipped_dismissals_file_has_the_header():
    assert list(adherence.load_dismissals().columns) == adherence.DISMISSAL_COLUMNS


# --- adherence rates -------------------------------------------------------------------------------

def _posts_and_findings(seed: int = 3, n_people: int = 60, per_person: int = 20, p_breach: float = 0.12):
    rng = np.random.default_rng(seed)
    departments = np.array(["programmes"] * 30 + ["fundraising"] * 20 + ["finance"] * 7 + ["legal"] * 3)
    rows = []
    for person in range(n_people):
        for k in range(per_person):
            rows.append({"post_uid": f"x:{person}-{k}", "account_type": "employee", "author_key": f"p{person}",
                         "department": departments[person], "month": f"2026-0{1 + k % 3}",
                         "published_at": pd.Timestamp("2026-01-01") + pd.Timedelta(days=k)})
    rows += [{"post_uid": f"x:org{k}", "account_type": "organization", "author_key": None, "department": None,
              "month": "2026-01", "published_at": pd.Timestamp("2026-01-02")} for k in range(50)]
    posts = pd.DataFrame(rows)
    breach = rng.random(len(posts)) < p_breach
    severity = rng.choice(["high", "medium"], size=breach.sum())
    findings = pd.DataFrame({"post_uid": posts.loc[breach, "post_uid"].to_numpy(), "rule_id": "phone",
                             "severity": severity, "dismissed": False})
    low = pd.DataFrame({"post_uid": posts["post_uid"].iloc[:40], "rule_id": "tone", "severity": "low",
                        "dismissed": False})
    return posts, pd.concat([findings, low], ignore_index=True)


def test_adherence_rate_recovers_the_planted_breach_rate():
    posts, findings = _posts_and_findings(p_breach=0.12)
    overall = adherence.adherence_rate(posts, findings).iloc[0]
    employee_posts = 60 * 20
    assert overall["n_posts"] == employee_posts and overall["n_people"] == 60
    assert overall["ci_low"] < 0.88 < overall["ci_high"]
    assert overall["ci_high"] < 1  # the rate is estimably below full adherence
    # organisation posts and low-severity findings do not count
    compliant = employee_posts - findings.query("severity != 'low'")["post_uid"].str.match(r"x:\d").sum()
    assert overall["n_compliant"] == compliant


def test_wilson_interval_matches_statsmodels():
    posts, findings = _posts_and_findings()
    table = adherence.adherence_rate(posts, findings, by=["month"])
    low, high = proportion_confint(table["n_compliant"].astype(int), table["n_posts"].astype(int), method="wilson")
    np.testing.assert_allclose(table["ci_low"], low, rtol=1e-10)
    np.testing.assert_allclose(table["ci_high"], high, rtol=1e-10)
    assert not table["suppressed"].any()
    for x, n in [(0, 7), (7, 7), (1, 3), (950, 1000)]:
        ours = adherence.wilson_interval(np.array([x]), np.array([n]))
        np.testing.assert_allclose([ours[0][0], ours[1][0]], proportion_confint(x, n, method="wilson"), atol=1e-12)


def test_wilson_interval_equals_statsmodels_to_the_bit_at_95_and_90_percent():
    # 95 % uses a stored critical value (no scipy import), other levels ask scipy: both must be exact
    from scipy import special

    assert -special.ndtri(0.025) == adherence._Z_95
    x, n = np.array([0, 7, 1, 950, 3, 17]), np.array([7, 7, 3, 1000, 5, 40])
    for confidence in (0.95, 0.9):
        low, high = proportion_confint(x, n, alpha=round(1 - confidence, 12), method="wilson")
        ours = adherence.wilson_interval(x, n, confidence=confidence)
        np.testing.assert_array_equal(ours[0], low)
        np.testing.assert_array_equal(ours[1], high)


def test_dismissals_change_the_adherence_rate():
    posts, findings = _posts_and_findings()
    before = adherence.adherence_rate(posts, findings).iloc[0]["adherence_rate"]
    breaches = findings[findings["severity"] != "low"]
    dismissals = pd.DataFrame({"post_uid": breaches["post_uid"].iloc[:30], "rule_id": "phone", "reason": "fp"})
    after = adherence.adherence_rate(posts, adherence.apply_dismissals(findings, dismissals)).iloc[0]
    assert after["adherence_rate"] == pytest.approx(before + 30 / 1200)


def test_small_departments_are_suppressed():
    posts, findings = _posts_and_findings()
    table = adherence.adherence_rate(posts, findings, by=["department"], k=5).set_index("department")
    # legal has 3 people; finance (7) is the smallest other cell, hidden so legal cannot be recovered
    assert table.loc["legal", "suppressed"] and table.loc["finance", "suppressed"]
    assert not table.loc["programmes", "suppressed"] and not table.loc["fundraising", "suppressed"]
    for column in ["adherence_rate", "ci_low", "ci_high", "n_compliant", "n_posts", "n_people"]:
        assert pd.isna(table.loc["legal", column])
    assert table.loc["programmes", "n_people"] == 30


def test_adherence_rate_checks_its_arguments():
    posts, findings = _posts_and_findings()
    with pytest.raises(ValueError, match="team"):
        adherence.adherence_rate(posts, findings, by=["team"])
    with pytest.raises(ValueError, match="severity"):
        adherence.adherence_rate(posts, findings.drop(columns="severity"))


def test_rule_counts_excludes_dismissed_and_counts_zeros():
    posts, findings = _posts_and_findings()
    findings = findings.merge(posts[["post_uid", "month"]], on="post_uid")
    findings.loc[findings.index[:5], "dismissed"] = True
    counts = adherence.rule_counts(findings, by=["month"])
    assert list(counts.columns) == ["month", "rule_id", "area", "severity", "n_findings"]
    kept = findings[~findings["dismissed"]]
    assert counts["n_findings"].sum() == len(kept)
    phone = counts[counts["rule_id"] == "phone"].set_index("month")["n_findings"]
    assert phone.to_dict() == kept[kept["rule_id"] == "phone"].groupby("month").size().to_dict()
    assert (counts.query("rule_id == 'harassment'")["n_findings"] == 0).all()
    assert counts.query("rule_id == 'phone'")["area"].eq("confidentiality").all()


def test_an_edit_of_the_rules_file_reaches_the_next_load_even_with_its_old_modification_time(tmp_path):
    """The rules were cached by the file's modification time: an edit saved within the clock's step, or
    copied with its time kept (`cp -p`, `rsync -t`), left `policy-pulse watch` scanning with the old rules."""
    from analytics import config

    chosen = tmp_path / "policy_rules.yml"
    chosen.write_text(config.POLICY_RULES_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    first = adherence.load_rules(chosen)
    assert first[0].severity == "high"
    # one word for another of the same length: the same size too
    rewrite_keeping_stat(chosen, chosen.read_text(encoding="utf-8").replace("severity: high", "severity: low ", 1))
    assert adherence.load_rules(chosen)[0].severity == "low"
    assert [r.id for r in adherence.load_rules(chosen)] == [r.id for r in first]
