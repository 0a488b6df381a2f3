//! Names a person relies on (service, user, device, a sign-in's context) come from elsewhere:
//! characters that make one name look like another are refused where names are made and made
//! visible where they are shown. `char::is_control` alone lets through the bidirectional
//! overrides (U+202E turns "moc.liam" into "mail.com" on screen) and the invisible zero-width
//! characters (two names that look the same differ).

/// What stands in for a deceptive character on screen: visible, and says something is off.
pub const REPLACEMENT: char = '\u{FFFD}';

/// Whether `c` may deceive in a name: a control character, a bidirectional mark, embedding,
/// override or isolate, or an invisible (zero-width, filler or tag) character.
pub fn is_deceptive(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{E0000}'..='\u{E007F}'
        )
}

/// Whether `text` holds a deceptive character (a name that must be refused).
pub fn has_deceptive(text: &str) -> bool {
    text.chars().any(is_deceptive)
}

/// `text` as it may be shown: each deceptive character replaced by [`REPLACEMENT`].
pub fn neutralise(text: &str) -> String {
    text.chars().map(|c| if is_deceptive(c) { REPLACEMENT } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_and_zero_width_characters_are_deceptive_letters_are_not() {
        for spoof in ["mail\u{202E}moc", "ali\u{200B}ce", "a\u{2067}b", "\u{FEFF}bank", "x\u{0007}"]
        {
            assert!(has_deceptive(spoof), "{spoof:?}");
        }
        for fine in ["Example Mail", "Zoë", "東京", "مثال", "alice@example.com", "Ünïcödé ✓"]
        {
            assert!(!has_deceptive(fine), "{fine:?}");
        }
    }

    #[test]
    fn neutralised_text_shows_where_a_deceptive_character_was() {
        assert_eq!(neutralise("pay\u{202E}lapyap"), "pay\u{FFFD}lapyap");
        assert_eq!(neutralise("ali\u{200D}ce"), "ali\u{FFFD}ce");
        assert_eq!(neutralise("Lisbon"), "Lisbon");
    }
}
