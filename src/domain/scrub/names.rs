//! Name plausibility: [`name_problem`] (placeholders, keyboard mashes, repeated
//! characters and syllables, digits and symbols, words without vowels), which the
//! `gibberish_name` rule applies.
//!
//! The rules judge letters they know: Latin (with or without accents) and
//! Cyrillic. Words in other scripts (Greek, Arabic, Hebrew, CJK, Devanagari,
//! Thai, …) are only checked for digits, symbols and repeats, so real names in
//! those scripts always pass. Reasons are short plain phrases: the rule shows
//! them to publishers, so they never repeat the name itself.

use std::collections::HashMap;
use std::sync::LazyLock;

use super::contact::collapse_whitespace;

/// The version of these name rules as a settled lead records it (DESIGN "Shared
/// lists"): raise it whenever a change here can judge a name differently.
pub const NAME_RULES_VERSION: &str = "names:2026-12-07";

/// Rows of keys, each with the label a failure names it by: the letter rows of
/// the QWERTY, QWERTZ, AZERTY and ЙЦУКЕН (Russian) layouts, the digit row and
/// the Latin and Cyrillic alphabets (typed "in order" like a row). A row shared
/// by two layouts is labelled by the first.
const ROWS: &[(&str, &str)] = &[
    ("QWERTY", "qwertyuiop"),
    ("QWERTY", "asdfghjkl;"),
    ("QWERTY", "zxcvbnm,./"),
    ("QWERTZ", "qwertzuiop"),
    ("QWERTZ", "yxcvbnm,.-"),
    ("AZERTY", "azertyuiop"),
    ("AZERTY", "qsdfghjklm"),
    ("AZERTY", "wxcvbn,;:!"),
    ("ЙЦУКЕН", "йцукенгшщзхъ"),
    ("ЙЦУКЕН", "фывапролджэ"),
    ("ЙЦУКЕН", "ячсмитьбю"),
    ("digit", "1234567890"),
    ("alphabet", "abcdefghijklmnopqrstuvwxyz"),
    ("alphabet", "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"),
];

/// Rows from this index on are not keyboard letter rows (digits, alphabets):
/// they count for runs but not for the "mash inside one row" test.
const LETTER_ROWS: usize = 11;

/// Length of a run along a row (either direction) that counts as a mash.
const MASH_LEN: usize = 5;

/// Every key: the rows it is on and its place in each.
static KEYS: LazyLock<HashMap<char, Vec<(usize, usize)>>> = LazyLock::new(|| {
    let mut out: HashMap<char, Vec<(usize, usize)>> = HashMap::new();
    for (row, (_, keys)) in ROWS.iter().enumerate() {
        for (at, c) in keys.chars().enumerate() {
            out.entry(c).or_default().push((row, at));
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
    "first last",
    "first name last name",
    "name surname",
    "тест",
    "тест тест",
    "нет",
    "имя",
    "фамилия",
    "имя фамилия",
    "аноним",
    "неизвестно",
];

/// Latin letters with a mark that are consonants; every other accented Latin
/// letter (é, ø, ů, ư, …) counts as a vowel.
const MARKED_CONSONANTS: &str = "çćĉċčďđĝğġģĥħĵķĺļľŀłńņňŉŋŕŗřśŝşšţťŧźżžñßþðșțȥƶ";

/// Cyrillic vowels (Russian, Ukrainian, Belarusian, Bulgarian ъ, Kazakh and
/// Mongolian letters).
const CYRILLIC_VOWELS: &str = "аеёиоуыэюяіїєъәөүұў";

/// Letters that make a syllable without a vowel in Czech, Slovak, Serbian and
/// Welsh names ("Vlk", "Krk", "Срб", "Dwnn").
const SYLLABIC: &str = "rlwŕĺřłрл";

/// A word of this many letters (Latin or Cyrillic) without a vowel is gibberish.
const NO_VOWEL_WORD_LEN: usize = 6;
/// A shorter word of this many letters without a vowel is gibberish unless it
/// has a letter that makes a syllable ([`SYLLABIC`]).
const NO_VOWEL_SHORT_LEN: usize = 4;
/// This many consonants in a row is gibberish (real names reach 7: "Hirschsprung", "Lichtschlag").
const CONSONANT_RUN: usize = 8;

/// The script a word is judged in.
#[derive(Clone, Copy, PartialEq)]
enum Script {
    Latin,
    Cyrillic,
    /// Any other script, or a mix: not judged by the vowel and keyboard rules.
    Other,
}

fn script_of(c: char) -> Script {
    match c {
        'a'..='z' | '\u{c0}'..='\u{24f}' | '\u{1e00}'..='\u{1eff}' if c != '×' && c != '÷' => Script::Latin,
        '\u{400}'..='\u{52f}' => Script::Cyrillic,
        _ => Script::Other,
    }
}

fn word_script(word: &[char]) -> Script {
    let first = word.first().map_or(Script::Other, |&c| script_of(c));
    if word.iter().all(|&c| script_of(c) == first) { first } else { Script::Other }
}

fn is_vowel(c: char) -> bool {
    match script_of(c) {
        Script::Latin if c.is_ascii() => "aeiouy".contains(c),
        Script::Latin => !MARKED_CONSONANTS.contains(c),
        Script::Cyrillic => CYRILLIC_VOWELS.contains(c),
        Script::Other => true,
    }
}

/// Neither vowel nor consonant: the Cyrillic soft sign.
fn is_sign(c: char) -> bool {
    c == 'ь'
}

/// Symbols no name holds: ASCII ones such as "@", "_", "#", "/", signs like "©"
/// or "°", arrows, shapes and emoji. Apostrophes, hyphens, dots, commas, quotes,
/// brackets, "&" and combining marks are allowed.
fn is_symbol(c: char) -> bool {
    if c.is_alphabetic() {
        return false;
    }
    matches!(c, '!' | '#' | '$' | '%' | '*' | '+' | '/' | ':' | ';' | '<' | '=' | '>' | '?' | '@')
        || matches!(c, '[' | '\\' | ']' | '^' | '_' | '{' | '|' | '}' | '~')
        || matches!(c, '\u{a1}'..='\u{bf}' if c != '\u{b7}' && c != '\u{b4}')
        || matches!(c, '×' | '÷')
        || matches!(c, '\u{2100}'..='\u{2bff}' | '\u{1f000}'..='\u{1faff}')
}

/// The label of a row along which `keys` run, in order or backwards, if any.
fn run_along_row(keys: &[char]) -> Option<&'static str> {
    let (first, rest) = keys.split_first()?;
    for &(row, at) in KEYS.get(first)? {
        for step in [1isize, -1] {
            let on_row = rest.iter().enumerate().all(|(i, c)| {
                let want = at as isize + step * (i as isize + 1);
                want >= 0 && KEYS.get(c).is_some_and(|places| places.contains(&(row, want as usize)))
            });
            if on_row {
                return Some(ROWS[row].0);
            }
        }
    }
    None
}

/// The label of a keyboard row holding every letter of `word` when most steps
/// between its letters are to a key at most two away: a mash that stays in one
/// region ("sdfjk", "hjkdsa").
fn mash_in_row(word: &[char]) -> Option<&'static str> {
    let rows = KEYS.get(word.first()?)?;
    'rows: for &(row, _) in rows.iter().filter(|(row, _)| *row < LETTER_ROWS) {
        let mut places = Vec::with_capacity(word.len());
        for c in word {
            match KEYS.get(c).and_then(|p| p.iter().find(|(r, _)| *r == row)) {
                Some(&(_, at)) => places.push(at),
                None => continue 'rows,
            }
        }
        let steps: Vec<usize> = places.windows(2).map(|w| w[0].abs_diff(w[1])).filter(|&d| d > 0).collect();
        let near = steps.iter().filter(|&&d| d <= 2).count();
        if !steps.is_empty() && near * 4 >= steps.len() * 3 {
            return Some(ROWS[row].0);
        }
    }
    None
}

/// Whether `word` repeats a syllable: two or three letters three times in a
/// row ("lalala", "вававава"), or the whole word one part twice where the part
/// has no vowel or is itself a run or mash ("asdasd", "abcabc", "sdfsdf").
/// Doubled names such as "Tingting", "Weiwei" or "Bongbong" pass.
fn repeats_syllable(word: &[char]) -> bool {
    let n = word.len();
    for unit in 2..=3 {
        for start in 0..(n + 1).saturating_sub(3 * unit) {
            let part = &word[start..start + unit];
            if part.iter().any(|c| *c != part[0])
                && (1..3).all(|k| &word[start + k * unit..start + (k + 1) * unit] == part)
            {
                return true;
            }
        }
    }
    if word_script(word) == Script::Other {
        return false;
    }
    for unit in 2..=n / 2 {
        if !n.is_multiple_of(unit) || !word.chunks(unit).all(|c| c == &word[..unit]) {
            continue;
        }
        let part = &word[..unit];
        return !part.iter().any(|&c| is_vowel(c))
            || (unit >= 3 && (run_along_row(part).is_some() || mash_in_row(part).is_some()));
    }
    false
}

/// Why `name` is implausible as a person's name, or `None`. The reason is a short
/// plain phrase such as "keyboard mash (ЙЦУКЕН row)" or "digits in the name".
///
/// Fails on: no letters at all; one character four times in a row; a placeholder
/// ("test", "n/a"); five keys of a keyboard row, the digit row or the alphabet in
/// order, either direction ("asdfg", "poiuy", "йцукен", "abcde"); digits ("J0hn")
/// or symbols ("anna_123", "@"); a syllable repeated ("lalala", "asdasd",
/// "вававава"); and, for words in Latin or Cyrillic letters, a mash of five or more
/// letters that stays in one keyboard row with at most one vowel in four
/// ("hjkdsa"), a word of six or more letters without a vowel, a word of four or
/// five without a vowel nor an r, l or w ("Vlk", "Srb" and "Dwnn" pass), or eight
/// consonants in a row. Words in other scripts are only judged by the first rules.
pub fn name_problem(name: &str) -> Option<String> {
    if !name.chars().any(char::is_alphabetic) {
        return Some("the name has no letters".into());
    }
    let lower = name.to_lowercase();
    let mut prev = None;
    let mut run = 0;
    for c in lower.chars() {
        if c.is_whitespace() {
            prev = None;
            continue;
        }
        if prev == Some(c) {
            run += 1;
            if run >= 4 {
                return Some("one character repeated four times".into());
            }
        } else {
            prev = Some(c);
            run = 1;
        }
    }
    let collapsed = collapse_whitespace(&lower);
    if PLACEHOLDER_NAMES.contains(&collapsed.as_str()) {
        return Some("a placeholder, not a name".into());
    }
    let chars: Vec<char> = lower.chars().collect();
    if let Some(label) = chars.windows(MASH_LEN).find_map(run_along_row) {
        return Some(match label {
            "alphabet" => "letters in alphabet order".into(),
            _ => format!("keyboard mash ({label} row)"),
        });
    }
    if chars.iter().any(|c| c.is_numeric()) {
        return Some("digits in the name".into());
    }
    if chars.iter().any(|&c| is_symbol(c)) {
        return Some("symbols in the name".into());
    }
    let words = chars.split(|&c| !c.is_alphabetic() || matches!(c, 'ʻ' | 'ʼ' | 'ʹ')).filter(|w| !w.is_empty());
    for word in words {
        if repeats_syllable(word) {
            return Some("repeated syllable".into());
        }
        if word_script(word) == Script::Other {
            continue;
        }
        let vowels = word.iter().filter(|&&c| is_vowel(c)).count();
        if vowels == 0
            && (word.len() >= NO_VOWEL_WORD_LEN
                || (word.len() >= NO_VOWEL_SHORT_LEN && !word.iter().any(|c| SYLLABIC.contains(*c))))
        {
            return Some("a word with no vowel".into());
        }
        let mut consonants = 0;
        for &c in word {
            consonants = if is_vowel(c) || is_sign(c) { 0 } else { consonants + 1 };
            if consonants >= CONSONANT_RUN {
                return Some("too many consonants in a row".into());
            }
        }
        if word.len() >= MASH_LEN
            && vowels * 4 <= word.len()
            && let Some(label) = mash_in_row(word)
        {
            return Some(format!("keyboard mash ({label} row)"));
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
        "Xu",
        "Yi",
        "O",
        "Ba",
        "Dia",
        "Amadou Ba",
        "Mamadou Dia",
        "Щербаков",
        "Ёлкин",
        "Шмидт",
        "Фролова",
        "Орлов",
        "Смит",
        "Вʼячеслав",
        "Мар'яна",
        "Гълъб",
        "Срб",
        "van der Berg",
        "de la Cruz",
        "bin Abdullah",
        "MacDonald",
        "McCarthy",
        "O’Brien",
        "Zoë",
        "Zoe\u{308}",
        "Nguye\u{302}\u{303}n",
        "Łukasz",
        "Şükrü",
        "Øyvind",
        "Srdjan",
        "Chrzanowski",
        "Hrbek",
        "Vlk",
        "Krk",
        "Dwnn",
        "Smrž",
        "Čtvrtník",
        "Þórsdóttir",
        "Ó Súilleabháin",
        "Caoimhín",
        "Tadhg",
        "Peter",
        "Pyotr",
        "Terry",
        "Ewert",
        "Wetter",
        "Rupert Trotter",
        "Haddad",
        "Sasha",
        "Dasha",
        "Salah",
        "Jalal",
        "Mikolaj",
        "Weiwei",
        "Ai Weiwei",
        "Tingting",
        "Yuanyuan",
        "Lili",
        "Nana",
        "Jojo",
        "Dingdong Dantes",
        "Babatunde",
        "Rakotomalala",
        "Kamehameha",
        "Mohamed Mohamed",
        "Mª José",
        "Anna (Annie) Smith",
        "ジョン・スミス",
        "佐々木",
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
            // keyboard rows of four layouts, both directions, and mashes inside one row
            ("qwertz", "keyboard mash (QWERTY row)"),
            ("Ztrewq", "keyboard mash (QWERTZ row)"),
            ("Azert", "keyboard mash (AZERTY row)"),
            ("mlkjh", "keyboard mash (AZERTY row)"),
            ("wxcvbn", "keyboard mash (AZERTY row)"),
            ("ЙЦУКЕН", "keyboard mash (ЙЦУКЕН row)"),
            ("Фывапр", "keyboard mash (ЙЦУКЕН row)"),
            ("ячсмит", "keyboard mash (ЙЦУКЕН row)"),
            ("эждлор", "keyboard mash (ЙЦУКЕН row)"),
            ("Ivan 09876", "keyboard mash (digit row)"),
            ("hjkdsa", "keyboard mash (QWERTY row)"),
            ("Anna Jkdfsa", "keyboard mash (QWERTY row)"),
            ("abcde", "alphabet order"),
            ("Ghijk", "alphabet order"),
            // repeats
            ("lalala", "repeated syllable"),
            ("Hahaha", "repeated syllable"),
            ("вававава", "repeated syllable"),
            ("asdasd", "repeated syllable"),
            ("sdfsdf", "repeated syllable"),
            ("abcabc", "repeated syllable"),
            ("Фывфыв", "repeated syllable"),
            ("blablabla", "repeated syllable"),
            ("hmhm", "repeated syllable"),
            ("ААААА", "four times"),
            ("Аааа", "four times"),
            // digits and symbols
            ("John3", "digits"),
            ("J0hn", "digits"),
            ("anna_123", "digits"),
            ("Анна 2", "digits"),
            ("Anna_Smith", "symbols"),
            ("John@Smith", "symbols"),
            ("Jane #Doe", "symbols"),
            ("Ann Lee \u{1f600}", "symbols"),
            ("@@@", "no letters"),
            // words without vowels, Latin and Cyrillic
            ("Vbxz", "no vowel"),
            ("Пвцкнг", "no vowel"),
            ("Шмдт", "no vowel"),
            ("Ивн Пвтк", "no vowel"),
            ("тест", "placeholder"),
        ] {
            let got = name_problem(n);
            assert!(got.as_deref().is_some_and(|g| g.contains(why)), "{n:?}: expected {why:?}, got {got:?}");
        }
    }

    #[test]
    fn reasons_are_short_and_never_repeat_the_name() {
        for n in ["asdfgh", "Qwerty", "Фывапр", "lalala", "J0hn", "Anna_Smith", "Bcdfgh", "test", "!!!"] {
            let why = name_problem(n).unwrap_or_else(|| panic!("{n} passed"));
            assert!(why.len() <= 40, "{why}");
            assert!(!why.to_lowercase().contains(&n.to_lowercase()), "{n}: {why}");
        }
    }

    #[test]
    fn runs_need_five_keys_and_short_words_keep_their_syllabic_letters() {
        // Four keys in a row are common in real names ("Smit" in ЙЦУКЕН, "Tyui"), five are not.
        assert_eq!(name_problem("Смит"), None);
        assert!(name_problem("asdfg").is_some());
        // Short words without a vowel pass while an r, l or w makes the syllable.
        assert_eq!(name_problem("Prst"), None);
        assert!(name_problem("Pstk").is_some());
        assert_eq!(name_problem("Hm"), None);
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
