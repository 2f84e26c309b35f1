//! Name plausibility: [`name_problem`] (placeholders, keyboard mashes, repeated
//! characters, words without vowels), which the `gibberish_name` rule applies.

use std::collections::HashSet;
use std::sync::LazyLock;

use super::contact::collapse_whitespace;

/// Keyboard rows (QWERTY, QWERTZ, AZERTY and digits). Five keys in a row, either
/// direction, make a keyboard mash.
const KEYBOARD_ROWS: &[&str] = &[
    "qwertyuiop",
    "asdfghjkl;",
    "zxcvbnm,./",
    "qwertzuiop",
    "yxcvbnm,.-",
    "azertyuiop",
    "qsdfghjklm",
    "wxcvbn,;:!",
    "1234567890",
];

/// Length of a keyboard-row run that counts as a mash.
const MASH_LEN: usize = 5;

/// Every run of [`MASH_LEN`] keys along a keyboard row, both directions.
static MASHES: LazyLock<HashSet<[u8; MASH_LEN]>> = LazyLock::new(|| {
    let mut out = HashSet::new();
    for row in KEYBOARD_ROWS {
        let fwd: Vec<u8> = row.bytes().collect();
        let rev: Vec<u8> = row.bytes().rev().collect();
        for keys in [fwd, rev] {
            for w in keys.windows(MASH_LEN) {
                let mut key = [0; MASH_LEN];
                key.copy_from_slice(w);
                out.insert(key);
            }
        }
    }
    out
});

/// Whole names (lower case) that are placeholders, not people.
const PLACEHOLDER_NAMES: &[&str] = &[
    "test",
    "testing",
    "tester",
    "testtest",
    "test test",
    "test user",
    "test name",
    "test lead",
    "asdf",
    "qwerty",
    "null",
    "undefined",
    "none",
    "n/a",
    "unknown",
    "noname",
    "no name",
    "fake",
    "fake name",
    "dummy",
    "xxx",
    "xyz",
    "abc",
    "abcd",
    "foo",
    "foo bar",
    "lorem ipsum",
];

const VOWELS: &[u8] = b"aeiouy";

/// A Latin word (ASCII letters only) of this length or more without a vowel is gibberish.
const NO_VOWEL_WORD_LEN: usize = 6;
/// This many consonants in a row is gibberish (real names reach 7: "Hirschsprung", "Lichtschlag").
const CONSONANT_RUN: usize = 8;

/// Why `name` is implausible as a person's name, or `None`.
///
/// Fails on: no letters at all; one character four times in a row; five keys of a
/// keyboard row in order ("asdfg", "poiuy"); a placeholder ("test", "n/a"); and, for
/// words written in plain ASCII Latin letters only, a word of six or more letters
/// without a vowel (a e i o u y) or eight consonants in a row. Words in other
/// scripts or with accented letters are never judged by the vowel rules.
pub fn name_problem(name: &str) -> Option<String> {
    if !name.chars().any(char::is_alphabetic) {
        return Some("the name has no letters".into());
    }
    let mut prev = None;
    let mut run = 0;
    for c in name.chars().map(|c| c.to_ascii_lowercase()) {
        if c.is_whitespace() {
            prev = None;
            continue;
        }
        if prev == Some(c) {
            run += 1;
            if run >= 4 {
                return Some("the name repeats one character four times".into());
            }
        } else {
            prev = Some(c);
            run = 1;
        }
    }
    let lower = name.to_lowercase();
    let collapsed = collapse_whitespace(&lower);
    if PLACEHOLDER_NAMES.contains(&collapsed.as_str()) {
        return Some(format!("\"{collapsed}\" is a placeholder, not a name"));
    }
    if let Some(m) = lower.as_bytes().windows(MASH_LEN).find(|w| MASHES.contains(*w)) {
        return Some(format!("the name looks like a keyboard mash (\"{}\")", String::from_utf8_lossy(m)));
    }
    for word in lower.split(|c: char| !c.is_alphanumeric()) {
        if word.is_empty() || !word.bytes().all(|b| b.is_ascii_lowercase()) {
            continue;
        }
        let b = word.as_bytes();
        if b.len() >= NO_VOWEL_WORD_LEN && !b.iter().any(|c| VOWELS.contains(c)) {
            return Some("a word of the name has no vowel".into());
        }
        let mut consonants = 0;
        for c in b {
            consonants = if VOWELS.contains(c) { 0 } else { consonants + 1 };
            if consonants >= CONSONANT_RUN {
                return Some("the name has too many consonants in a row".into());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::scrub::testing::*;
    use crate::domain::scrub::*;
    use serde_json::json;

    // ---- gibberish_name ----

    const REAL_NAMES: &[&str] = &[
        "Li",
        "Wu",
        "Ng",
        "Bo",
        "O'Brien",
        "Anne-Marie",
        "José Ñúñez",
        "John Doe",
        "Mary-Jane O'Connor",
        "D'Angelo",
        "Jean-Luc Picard",
        "Nguyễn Văn An",
        "Trần Thị Hương",
        "Björk Guðmundsdóttir",
        "Þórður Ólafsson",
        "Søren Kierkegaard",
        "Zbigniew Brzęczyszczykiewicz",
        "Grzegorz Brzeczyszczykiewicz",
        "Krzysztof Szczepański",
        "Wojciech Szczesny",
        "Przemyslaw Szczygiel",
        "Mkrtchyan",
        "Henrikh Mkhitaryan",
        "Aram Mkrtchian",
        "Harald Hirschsprung",
        "Lichtschlag",
        "Karl Schwarzschild",
        "Fleischhacker",
        "Albrechtsberger",
        "Nkosazana Dlamini-Zuma",
        "Ngozi Okonjo-Iweala",
        "Chukwuemeka Nwosu",
        "Tshepo Mthembu",
        "Nkosinathi Nxumalo",
        "Llwyd",
        "Gwynn Rhys",
        "Dafydd ap Gwilym",
        "Siobhán Ní Bhriain",
        "Keʻalohilani Kamakawiwoʻole",
        "Ruud van Nistelrooy",
        "Dirk Kuyt",
        "Petr Vlk",
        "Strnad",
        "Mtchedlishvili",
        "Tskhadadze",
        "Zhang Xiaoming",
        "Zhuang Zhou",
        "Xi Jinping",
        "Kim Min-jun",
        "Park Ji-sung",
        "Oyelaran Oluwaseun",
        "Srinivas Ramanujan",
        "Shchukin",
        "Khrushchev",
        "Vladimir Shchegolkov",
        "Yevgeny Zamyatin",
        "Aaron Aaronson",
        "Phyllis",
        "Glynn",
        "Flynn",
        "Lynch",
        "Nyx",
        "Sky",
        "Mohammed bin Rashid Al Maktoum",
        "Abdul-Rahman Al-Saud",
        "Иван Петров",
        "Анна-Мария Сидорова",
        "Щукин Щербаков",
        "李小龍",
        "山田太郎",
        "김민준",
        "محمد عبد الله",
        "דוד כהן",
        "Γιώργος Παπαδόπουλος",
        "สมชาย ใจดี",
        "अमित शर्मा",
        "გიორგი ბერიძე",
        "Արամ Խաչատրյան",
        "J. R. R. Tolkien",
        "Louis XIV",
        "Martin Luther King Jr.",
        "Bongbong Marcos",
        "Joyjoy Santos",
        "Hatsune Miku",
        "Xóchitl Gálvez",
        "Ayşe Yılmaz",
        "Çağlar Söyüncü",
        "Đorđe Balašević",
        "Mrksic",
        "Knightley",
        "Ashcroft",
        "Weiss",
        "Sassoon",
        "Caddell",
        "Giuseppe Verdi",
        "Hawaii Kai",
        "Aloha Nui",
    ];

    #[test]
    fn real_names_pass() {
        for n in REAL_NAMES {
            assert_eq!(name_problem(n), None, "{n}");
        }
    }

    #[test]
    fn gibberish_names_fail() {
        for (n, why) in [
            ("12345", "no letters"),
            ("!!!", "no letters"),
            ("---", "no letters"),
            ("1980 2000", "no letters"),
            ("Aaaa", "four times"),
            ("Johnnnn Smith", "four times"),
            ("John ....", "four times"),
            ("asdfg", "keyboard"),
            ("Asdfgh Jkl", "keyboard"),
            ("qwerty uiop", "keyboard"),
            ("John Qwert", "keyboard"),
            ("zxcvb", "keyboard"),
            ("hjkl;", "keyboard"),
            ("Lkjhg", "keyboard"),
            ("poiuy trewq", "keyboard"),
            ("azerty", "keyboard"),
            ("John 12345", "keyboard"),
            ("test", "placeholder"),
            ("Test Test", "placeholder"),
            ("N/A", "placeholder"),
            ("null", "placeholder"),
            ("dfkjgh", "no vowel"),
            ("Bcdfgh Smith", "no vowel"),
            ("sdkfjlwqrt", "no vowel"),
            ("Hjsdkfhwrtplka", "consonants in a row"),
        ] {
            let got = name_problem(n);
            assert!(got.as_deref().is_some_and(|g| g.contains(why)), "{n:?}: expected {why:?}, got {got:?}");
        }
    }

    #[test]
    fn gibberish_name_rule() {
        let mut t = bare_terms();
        t.scrub.check_name = true;
        assert!(check(&good_lead().eval(&t), GIBBERISH_NAME).passed);
        let v = Lead::new(json!({"first_name": "asdfg", "last_name": "hjkl"}), None).eval(&t);
        assert!(!check(&v, GIBBERISH_NAME).passed);
        assert_eq!(check(&Lead::new(json!({}), None).eval(&t), GIBBERISH_NAME).detail, "no name given");
        assert!(
            check(&Lead::new(json!({"first_name": "José", "last_name": "Ñúñez"}), None).eval(&t), GIBBERISH_NAME)
                .passed
        );
    }
}
