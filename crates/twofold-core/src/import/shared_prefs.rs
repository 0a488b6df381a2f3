//! Android's `SharedPreferences` files, where several apps keep their accounts: an XML `<map>` of
//! `<string name="...">text</string>` and `<int|long|boolean|float name="..." value="..."/>`.
//! Apps without an export of their own (Authy, Battle.net, FreeOTP, TOTP Authenticator) are read
//! from this file, copied off a rooted phone or out of an Android backup.
//!
//! Format: `android.app.SharedPreferencesImpl` writes it with `com.android.internal.util.XmlUtils`
//! (<https://android.googlesource.com/platform/frameworks/base/+/refs/heads/main/core/java/com/android/internal/util/XmlUtils.java>).

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use zeroize::Zeroize;

/// Most entries read from one file: apps keep a few dozen; far more means it is not one.
const MAX_ENTRIES: usize = 10_000;

/// The entries of a preferences file, by name; values are wiped on drop (they hold secrets).
pub(super) struct Prefs(Vec<(String, String)>);

impl Prefs {
    /// The entries of `text` when it is a preferences `<map>`, else `None`.
    pub(super) fn parse(text: &str) -> Option<Self> {
        let start = text.trim_start();
        if !start.starts_with("<?xml") && !start.starts_with("<map") {
            return None;
        }
        let mut reader = Reader::from_str(text);
        let mut prefs = Prefs(Vec::new());
        let mut in_map = false;
        let mut open: Option<String> = None;
        let mut value = String::new();
        loop {
            match reader.read_event().ok()? {
                Event::Start(tag) if tag.name().as_ref() == "map" && !in_map => in_map = true,
                Event::Start(tag) if in_map && open.is_none() => {
                    open = Some(name(&tag)?);
                    value.zeroize();
                }
                // `<map/>`: a file with no entries.
                Event::Empty(tag) if tag.name().as_ref() == "map" && !in_map => {}
                // `<int name="x" value="1"/>` and the like.
                Event::Empty(tag) if in_map && open.is_none() => {
                    let attribute = tag.try_get_attribute("value").ok()?;
                    let text = match attribute {
                        Some(attribute) => {
                            attribute.normalized_value(XmlVersion::Implicit1_0).ok()?.into_owned()
                        }
                        None => String::new(),
                    };
                    prefs.push(name(&tag)?, text)?;
                }
                Event::Text(text) if open.is_some() => value.push_str(&text),
                Event::CData(text) if open.is_some() => value.push_str(&text),
                Event::GeneralRef(reference) if open.is_some() => {
                    match reference.resolve_char_ref().ok()? {
                        Some(c) => value.push(c),
                        None => value.push_str(quick_xml::escape::resolve_xml_entity(&reference)?),
                    }
                }
                Event::End(_) if open.is_some() => {
                    let name = open.take()?;
                    prefs.push(name, std::mem::take(&mut value))?;
                }
                Event::End(tag) if tag.name().as_ref() == "map" => in_map = false,
                Event::Eof => break,
                Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
                Event::Text(text) if text.trim().is_empty() => {}
                _ => return None,
            }
        }
        Some(prefs)
    }

    fn push(&mut self, name: String, value: String) -> Option<()> {
        (self.0.len() < MAX_ENTRIES).then(|| self.0.push((name, value)))
    }

    /// The value of entry `name`.
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, value)| value.as_str())
    }

    /// Every entry, in file order.
    pub(super) fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(name, value)| (name.as_str(), value.as_str()))
    }
}

impl Drop for Prefs {
    fn drop(&mut self) {
        for (_, value) in &mut self.0 {
            value.zeroize();
        }
    }
}

/// An entry's `name` attribute.
fn name(tag: &BytesStart<'_>) -> Option<String> {
    Some(
        tag.try_get_attribute("name")
            .ok()??
            .normalized_value(XmlVersion::Implicit1_0)
            .ok()?
            .into_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_strings_with_entities_and_valued_entries() {
        let prefs = Prefs::parse(
            "<?xml version='1.0' encoding='utf-8' standalone='yes' ?>\n<map>\n    \
             <string name=\"a\">[{&quot;x&quot;:1}] &#65;</string>\n    \
             <int name=\"n\" value=\"121\" />\n    <boolean name=\"b\" value=\"false\" />\n</map>\n",
        )
        .unwrap();
        assert_eq!(prefs.get("a"), Some("[{\"x\":1}] A"));
        assert_eq!(prefs.get("n"), Some("121"));
        assert_eq!(prefs.entries().count(), 3);
    }

    #[test]
    fn anything_else_is_not_preferences() {
        assert!(Prefs::parse("otpauth://totp/a?secret=AA").is_none());
        assert!(Prefs::parse("<map><string name=\"a\">x</map>").is_none());
        assert!(Prefs::parse("<map><string>x</string></map>").is_none());
        assert_eq!(Prefs::parse("<map />").map(|p| p.entries().count()), Some(0));
    }
}
