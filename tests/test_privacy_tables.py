"""The scrubber's Unicode tables, built with C-level string work, equal the plain per-code-point definitions."""

from __future__ import annotations

from analytics import privacy


def _slow_tables() -> tuple[str, str, str]:
    """The definition, one code point at a time."""
    cased, digits, spaces = [], [], []
    for point in range(privacy._TABLE_END):
        char = chr(point)
        if char.isdecimal():
            digits.append(point)
        if char.isspace():
            spaces.append(point)
        forms = (char.lower(), char.upper(), char.casefold())
        if any(form != char for form in forms):
            cased += [char, *(form for form in forms if len(form) == 1)]
    return privacy._re2_class(digits), privacy._re2_class(spaces), "".join(sorted(set(cased)))


def test_code_points_are_every_code_point_in_order():
    points = privacy._code_points()
    assert len(points) == privacy._TABLE_END
    assert all(ord(char) == i for i, char in enumerate(points))


def test_unicode_tables_equal_the_per_code_point_definition():
    assert privacy._unicode_tables.__wrapped__() == _slow_tables()


def test_no_case_mapping_of_a_changed_character_starts_with_it():
    # what lets _changed_by_case skip a run its mappings leave unchanged
    for char in privacy._code_points():
        for form in (char.lower(), char.upper(), char.casefold()):
            assert form == char or not form.startswith(char)


def test_changed_by_case_finds_characters_at_run_edges():
    assert privacy._changed_by_case("1" * 31 + "A") == ["A"]
    assert privacy._changed_by_case("ß" + "-" * 40 + "ſ") == ["ß", "ſ"]
    assert privacy._changed_by_case("Σ") == ["Σ"]  # final-sigma context does not hide it
    assert privacy._changed_by_case("12 -") == []


def test_hint_pattern_invisible_class_is_every_invisible_code_point():
    invisible = [p for p in range(privacy._TABLE_END) if privacy._INVISIBLE_RE.fullmatch(chr(p))]
    expected = f"[{privacy._re2_class(invisible)}\\x{{{privacy._TABLE_END:x}}}-\\x{{10ffff}}]|"
    assert privacy._hint_pattern.__wrapped__().startswith(expected)
    assert len(invisible) > 10  # the class is not empty by accident


def test_digit_and_space_classes_hold_non_ascii_members():
    digits, spaces, cased = privacy._unicode_tables()
    assert "\\x{660}-\\x{669}" in digits  # Arabic-Indic digits
    assert "\\x{3000}" in spaces and "\\x{a0}" in spaces
    assert {"\u017f", "\u212a", "k", "s", "\u00df"} <= set(cased)  # long s, Kelvin sign, sharp s
