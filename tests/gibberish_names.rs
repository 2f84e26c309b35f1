//! The `gibberish_name` rule against real names in many languages and scripts
//! (tests/data/real_names.txt) and against keyboard mashes and junk, through the
//! public `name_problem`.

use qualead::domain::scrub::name_problem;

/// Share of the real names that must pass, in tenths of a percent (99.5 %).
const MIN_PASS_PERMILLE: usize = 995;

fn real_names() -> Vec<&'static str> {
    include_str!("data/real_names.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

#[test]
fn real_names_pass() {
    let names = real_names();
    assert!(names.len() >= 400, "only {} names in the list", names.len());
    let failed: Vec<(&str, String)> = names.iter().filter_map(|n| name_problem(n).map(|why| (*n, why))).collect();
    for (n, why) in &failed {
        println!("refused: {n} ({why})");
    }
    let passed = names.len() - failed.len();
    println!("{passed} of {} real names pass", names.len());
    assert!(
        passed * 1000 >= names.len() * MIN_PASS_PERMILLE,
        "only {passed} of {} real names pass; refused: {failed:?}",
        names.len()
    );
}

#[test]
fn the_list_spans_languages_and_scripts() {
    let text = include_str!("data/real_names.txt");
    let sections = text.lines().filter(|l| l.starts_with("# ") && !l.contains("name_problem")).count();
    assert!(sections >= 10, "{sections} sections");
    let has =
        |range: std::ops::RangeInclusive<char>| real_names().iter().any(|n| n.chars().any(|c| range.contains(&c)));
    for (script, range) in [
        ("Cyrillic", '\u{400}'..='\u{4ff}'),
        ("Greek", '\u{370}'..='\u{3ff}'),
        ("Arabic", '\u{600}'..='\u{6ff}'),
        ("Hebrew", '\u{590}'..='\u{5ff}'),
        ("Devanagari", '\u{900}'..='\u{97f}'),
        ("Thai", '\u{e00}'..='\u{e7f}'),
        ("CJK", '\u{4e00}'..='\u{9fff}'),
        ("Hangul", '\u{ac00}'..='\u{d7af}'),
    ] {
        assert!(has(range), "no name in {script}");
    }
}

/// Keyboard mashes along and inside the rows of QWERTY, QWERTZ, AZERTY and ЙЦУКЕН,
/// repeated syllables and characters, digits, symbols and words without vowels.
const GIBBERISH: &[&str] = &[
    // QWERTY rows, both directions, and mashes inside one row
    "asdfgh",
    "Asdfg Hjkl",
    "qwerty uiop",
    "Qwert Yuiop",
    "zxcvbn",
    "Zxcvb Nm",
    "poiuytrewq",
    "lkjhgf",
    "mnbvcx",
    "hjkl;",
    "sdfjkl",
    "hjkdsa",
    "jkdfsa",
    "dfkjgh",
    "Dfghjk Lkjh",
    // QWERTZ
    "qwertz",
    "Ztrewq",
    "Uztrewq Zuiop",
    "yxcvb",
    // AZERTY
    "azerty",
    "Azert Yuiop",
    "qsdfgh",
    "mlkjhg",
    "wxcvbn",
    // ЙЦУКЕН
    "йцукен",
    "Йцукен Фыва",
    "фывапр",
    "Фывапролдж",
    "ячсмит",
    "Ячсмить",
    "апролд",
    "олджэ",
    "нгшщз",
    "Вапро Лджэ",
    "ЭЖДЛОР",
    // alphabet order
    "abcde",
    "Abcdef Ghijk",
    // repeated syllables
    "sdfsdf",
    "asdasd",
    "Asdasd Qweqwe",
    "fghfgh",
    "dsadsa",
    "qweqwe",
    "ewqewq",
    "ываыва",
    "фывфыв",
    "abcabc",
    "lalala",
    "Lalala Lalala",
    "nanana",
    "hahaha",
    "вававава",
    "хахаха",
    "Ахахах Ахахах",
    "blablabla",
    // repeated characters
    "aaaa",
    "Aaaaa Bbbbb",
    "ааааа",
    "Ооооо",
    "Johnnnn Smith",
    "xxxx xxxx",
    "Jjjjj Smith",
    // digits and symbols
    "John3",
    "J0hn",
    "J0hn Sm1th",
    "anna_123",
    "Anna Smith 2",
    "John 12345",
    "123 456",
    "@@@",
    "John@Smith",
    "Anna_Smith",
    "John #1",
    // words without vowels, Latin and Cyrillic
    "Bcdfgh Smith",
    "Sdkfjlwqrt",
    "Hjsdkfhwrtplka",
    "Mrkvtsk",
    "Пвцкнг",
    "Вцкн Пвтк",
    "Шмдт",
    "Кркнвш",
    // placeholders
    "Test Test",
    "тест",
    "N/A",
    "null",
    "asdf",
];

#[test]
fn gibberish_is_refused() {
    assert!(GIBBERISH.len() >= 60);
    let passed: Vec<&str> = GIBBERISH.iter().copied().filter(|n| name_problem(n).is_none()).collect();
    assert!(passed.is_empty(), "passed as real names: {passed:?}");
}

#[test]
fn reasons_name_the_layout() {
    for (name, why) in [
        ("asdfgh", "keyboard mash (QWERTY row)"),
        ("Ztrewq", "keyboard mash (QWERTZ row)"),
        ("azerty", "keyboard mash (AZERTY row)"),
        ("йцукен", "keyboard mash (ЙЦУКЕН row)"),
        ("lalala", "repeated syllable"),
        ("John3", "digits in the name"),
    ] {
        assert_eq!(name_problem(name).as_deref(), Some(why), "{name}");
    }
}
