//! Reading a model's answer (seed §11: "defensive JSON parsing"). Everything in it is
//! untrusted text: it is parsed leniently, every field is cleaned like user input
//! (`wildid_ports::text::clean`: no markup, no control characters, bounded length), and an
//! answer that is not the JSON asked for still yields a result, marked as such, never an error
//! page or a panic.

use serde_json::{Map, Value};
use wildid_domain::identification::{Confidence, SpeciesResult, unknown_name};
use wildid_domain::text::PlainText;
use wildid_ports::text::clean;

/// Longest names kept.
pub(crate) const NAME_MAX: usize = 120;
/// Longest animal type and conservation status kept.
pub(crate) const LABEL_MAX: usize = 60;
/// Longest description kept.
pub(crate) const DESCRIPTION_MAX: usize = 2000;
/// Longest notes kept.
pub(crate) const NOTES_MAX: usize = 500;

/// What the result says when the model's answer was not the expected JSON.
pub(crate) const NOT_JSON_NOTE: &str = "The provider's answer was not in the expected format.";

/// The result in `content`, the text of the model's message.
pub(crate) fn parse(content: &str) -> SpeciesResult {
    match json_object(content) {
        Some(fields) => from_fields(&fields),
        // Prose instead of JSON: nothing is named, but the prose may help the person.
        None => SpeciesResult {
            description: untrusted(content, DESCRIPTION_MAX),
            notes: untrusted(NOT_JSON_NOTE, NOTES_MAX),
            ..SpeciesResult::unreadable()
        },
    }
}

fn from_fields(fields: &Map<String, Value>) -> SpeciesResult {
    let field = |name: &str| fields.get(name).filter(|v| !v.is_null());
    let text = |name: &str, max: usize| field(name).and_then(|v| text_of(v, max));
    SpeciesResult {
        // The seed's first prompt asked about turtles only; its answers said `is_turtle`.
        is_animal: field("is_animal")
            .or_else(|| field("is_turtle"))
            .and_then(boolean)
            .unwrap_or(true),
        species: text("species", NAME_MAX).unwrap_or_else(unknown_name),
        common_name: text("common_name", NAME_MAX).unwrap_or_else(unknown_name),
        animal_type: text("animal_type", LABEL_MAX),
        conservation_status: text("conservation_status", LABEL_MAX),
        confidence: field("confidence")
            .and_then(Value::as_str)
            .map_or(Confidence::Low, Confidence::from_provider),
        description: text("description", DESCRIPTION_MAX),
        notes: text("notes", NOTES_MAX),
        alternatives: Vec::new(),
    }
}

/// The JSON object in `content`: the whole text, the inside of a Markdown code fence, or the
/// span from the first `{` to the last `}` (models like to add a sentence around it).
fn json_object(content: &str) -> Option<Map<String, Value>> {
    let trimmed = content.trim();
    let unfenced = trimmed
        .strip_prefix("```")
        .map(|rest| {
            let body = rest.split_once('\n').map_or("", |(_, body)| body);
            body.trim_end().strip_suffix("```").unwrap_or(body)
        })
        .unwrap_or(trimmed);
    let object = |text: &str| match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    };
    object(unfenced).or_else(|| {
        let start = unfenced.find('{')?;
        let end = unfenced.rfind('}')?;
        unfenced.get(start..=end).and_then(object)
    })
}

fn boolean(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" => Some(true),
            "false" | "no" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn text_of(value: &Value, max: usize) -> Option<PlainText> {
    match value {
        Value::String(s) => untrusted(s, max),
        Value::Number(n) => untrusted(&n.to_string(), max),
        Value::Bool(b) => untrusted(if *b { "true" } else { "false" }, max),
        _ => None,
    }
}

/// Untrusted text cut to `max` characters first (a model may write a novel), then cleaned;
/// `None` when nothing is left.
pub(crate) fn untrusted(raw: &str, max: usize) -> Option<PlainText> {
    let cut = raw
        .char_indices()
        .nth(max)
        .map_or(raw, |(at, _)| &raw[..at]);
    clean(cut, max).ok()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_well_formed_answer_is_read_field_by_field() {
        let r = parse(
            r#"{"is_animal": true, "species": "Chelonia mydas", "common_name": "Green sea turtle",
                "animal_type": "reptile", "conservation_status": "Endangered",
                "confidence": "High", "description": "A turtle.", "notes": null}"#,
        );
        assert!(r.is_animal);
        assert_eq!(r.species.as_str(), "Chelonia mydas");
        assert_eq!(r.common_name.as_str(), "Green sea turtle");
        assert_eq!(r.animal_type.unwrap().as_str(), "reptile");
        assert_eq!(r.conservation_status.unwrap().as_str(), "Endangered");
        assert_eq!(r.confidence, Confidence::High);
        assert_eq!(r.description.unwrap().as_str(), "A turtle.");
        assert_eq!(r.notes, None);
    }

    #[test]
    fn fences_and_chatter_around_the_json_are_removed() {
        let fenced = "```json\n{\"species\": \"Vulpes vulpes\", \"is_animal\": \"yes\"}\n```";
        assert_eq!(parse(fenced).species.as_str(), "Vulpes vulpes");
        let chatty = "Sure! Here it is: {\"species\": \"Bubo bubo\"} Hope this helps.";
        assert_eq!(parse(chatty).species.as_str(), "Bubo bubo");
        let turtle = r#"{"is_turtle": false, "species": "Unknown"}"#;
        assert!(!parse(turtle).is_animal);
    }

    #[test]
    fn an_answer_that_is_not_json_is_kept_as_a_description_and_marked() {
        let r = parse("I think this is a red fox, but the photo is blurry.");
        assert!(r.is_animal);
        assert_eq!(r.species.as_str(), "Unknown");
        assert_eq!(r.confidence, Confidence::Low);
        assert_eq!(
            r.description.unwrap().as_str(),
            "I think this is a red fox, but the photo is blurry."
        );
        assert_eq!(r.notes.unwrap().as_str(), NOT_JSON_NOTE);
        assert_eq!(parse("[1, 2]").species.as_str(), "Unknown");
    }

    #[test]
    fn markup_and_controls_in_an_answer_are_removed_and_lengths_bounded() {
        let r = parse(&format!(
            r#"{{"species": "<img src=x onerror=alert(1)>Canis lupus\u0007",
                 "common_name": "<script>steal()</script>Wolf",
                 "description": "{}"}}"#,
            "a".repeat(10_000)
        ));
        assert_eq!(r.species.as_str(), "Canis lupus");
        assert_eq!(r.common_name.as_str(), "Wolf");
        assert_eq!(
            r.description.unwrap().as_str().chars().count(),
            DESCRIPTION_MAX
        );
    }

    #[test]
    fn odd_types_do_not_break_the_reading() {
        let r =
            parse(r#"{"species": 42, "confidence": 7, "is_animal": "maybe", "notes": {"a": 1}}"#);
        assert_eq!(r.species.as_str(), "42");
        assert_eq!(r.confidence, Confidence::Low);
        assert!(r.is_animal);
        assert_eq!(r.notes, None);
    }

    proptest! {
        #[test]
        fn any_answer_gives_a_bounded_plain_result(content in ".{0,3000}") {
            let r = parse(&content);
            let texts = [Some(&r.species), Some(&r.common_name), r.animal_type.as_ref(),
                r.conservation_status.as_ref(), r.description.as_ref(), r.notes.as_ref()];
            for text in texts.into_iter().flatten() {
                prop_assert!(text.as_str().chars().count() <= DESCRIPTION_MAX);
                prop_assert!(!text.as_str().chars().any(|c| c.is_control() && c != '\n' && c != '\t'));
            }
        }

        #[test]
        fn any_json_object_gives_a_bounded_plain_result(
            species in ".{0,300}", description in ".{0,3000}", notes in ".{0,600}"
        ) {
            let content = serde_json::json!({
                "species": species, "description": description, "notes": notes,
            }).to_string();
            let r = parse(&content);
            prop_assert!(r.species.as_str().chars().count() <= NAME_MAX);
            prop_assert!(r.description.as_ref().is_none_or(|d| d.as_str().chars().count() <= DESCRIPTION_MAX));
            prop_assert!(r.notes.as_ref().is_none_or(|n| n.as_str().chars().count() <= NOTES_MAX));
        }
    }
}
