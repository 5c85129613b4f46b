//! Checks that a locale is complete: every message English has, with the same variables and
//! attributes, translated; and that a text rendered in a locale holds no English left over.
//! The services' tests render every email and page in every locale through these.
use std::collections::{BTreeMap, BTreeSet};

use fluent_bundle::{FluentArgs, FluentValue};
use fluent_syntax::ast;

use crate::{catalog, Locale};

/// Messages that read the same in a language as in English, on purpose.
const SAME_AS_ENGLISH: &[(Locale, &str)] = &[
    // "{ $page } · Beckon": the product's name.
    (Locale::De, "page-title"),
    (Locale::Fr, "page-title"),
    (Locale::Es, "page-title"),
    (Locale::PtBr, "page-title"),
];

/// A message's variables and attributes, read from its source.
#[derive(Debug, Default, PartialEq, Eq)]
struct Shape {
    variables: BTreeSet<String>,
    attributes: BTreeSet<String>,
    /// Whether it says anything of its own; `{ $person }` does not, and reads the same in
    /// every language.
    has_text: bool,
}

fn shapes(locale: Locale) -> (BTreeMap<String, Shape>, Vec<String>) {
    let mut shapes = BTreeMap::new();
    let mut problems = Vec::new();
    for (file, source) in catalog::FILES.iter().zip(catalog::sources(locale)) {
        let resource = match fluent_syntax::parser::parse(source) {
            Ok(resource) => resource,
            Err((resource, errors)) => {
                problems.push(format!("{locale}/{file}: does not parse: {errors:?}"));
                resource
            }
        };
        for entry in resource.body {
            if let ast::Entry::Message(message) = entry {
                let mut shape = Shape::default();
                if let Some(value) = &message.value {
                    pattern_variables(value, &mut shape.variables);
                    shape.has_text = value.elements.iter().any(|element| {
                        matches!(element, ast::PatternElement::TextElement { value } if !value.trim().is_empty())
                    }) || value.elements.iter().any(|element| {
                        matches!(element, ast::PatternElement::Placeable { expression: ast::Expression::Select { .. } })
                    });
                }
                for attribute in &message.attributes {
                    shape.attributes.insert(attribute.id.name.to_string());
                    pattern_variables(&attribute.value, &mut shape.variables);
                }
                if shapes.insert(message.id.name.to_string(), shape).is_some() {
                    problems.push(format!(
                        "{locale}/{file}: {} is defined twice",
                        message.id.name
                    ));
                }
            }
        }
    }
    (shapes, problems)
}

fn pattern_variables(pattern: &ast::Pattern<&str>, found: &mut BTreeSet<String>) {
    for element in &pattern.elements {
        if let ast::PatternElement::Placeable { expression } = element {
            expression_variables(expression, found);
        }
    }
}

fn expression_variables(expression: &ast::Expression<&str>, found: &mut BTreeSet<String>) {
    match expression {
        ast::Expression::Select { selector, variants } => {
            inline_variables(selector, found);
            for variant in variants {
                pattern_variables(&variant.value, found);
            }
        }
        ast::Expression::Inline(inline) => inline_variables(inline, found),
    }
}

fn inline_variables(inline: &ast::InlineExpression<&str>, found: &mut BTreeSet<String>) {
    match inline {
        ast::InlineExpression::VariableReference { id } => {
            found.insert(id.name.to_string());
        }
        ast::InlineExpression::Placeable { expression } => expression_variables(expression, found),
        ast::InlineExpression::FunctionReference { arguments, .. }
        | ast::InlineExpression::TermReference {
            arguments: Some(arguments),
            ..
        } => {
            for argument in &arguments.positional {
                inline_variables(argument, found);
            }
            for argument in &arguments.named {
                inline_variables(&argument.value, found);
            }
        }
        _ => {}
    }
}

/// Every message formatted with sample values, numbers as 1 and as 7.
fn samples(locale: Locale, id: &str, shape: &Shape) -> Vec<String> {
    [1, 7]
        .into_iter()
        .filter_map(|number| {
            let mut args = FluentArgs::new();
            for variable in &shape.variables {
                args.set(variable.clone(), FluentValue::from(number));
            }
            catalog::format(locale, id, &args)
        })
        .collect()
}

/// What is wrong with a locale's catalog, measured against English: unreadable files, messages
/// missing or extra, different variables or attributes, text left in English. Empty when the
/// locale is complete.
pub fn catalog_problems(locale: Locale) -> Vec<String> {
    let (english, _) = shapes(Locale::En);
    let (translated, mut problems) = shapes(locale);
    problems.extend(catalog::bundle(locale).errors.iter().cloned());
    for (id, shape) in &english {
        let Some(theirs) = translated.get(id) else {
            problems.push(format!("{locale}: {id} is missing"));
            continue;
        };
        if theirs.variables != shape.variables {
            problems.push(format!(
                "{locale}: {id} uses {:?}, English {:?}",
                theirs.variables, shape.variables
            ));
        }
        if theirs.attributes != shape.attributes {
            problems.push(format!(
                "{locale}: {id} has attributes {:?}, English {:?}",
                theirs.attributes, shape.attributes
            ));
        }
        if locale != Locale::En
            && shape.has_text
            && !SAME_AS_ENGLISH.contains(&(locale, id.as_str()))
            && samples(locale, id, shape) == samples(Locale::En, id, shape)
        {
            problems.push(format!("{locale}: {id} is still in English"));
        }
    }
    for id in translated.keys().filter(|id| !english.contains_key(*id)) {
        problems.push(format!("{locale}: {id} is not in English (a typo?)"));
    }
    problems
}

/// The words of a text, lowercased: markup, entities and anything with a digit left out.
fn words(text: &str) -> BTreeSet<String> {
    let mut plain = String::with_capacity(text.len());
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                plain.push(' ');
            }
            _ if !in_tag => plain.push(c),
            _ => {}
        }
    }
    plain
        .split(|c: char| !(c.is_alphanumeric() || c == '&' || c == '#' || c == ';'))
        .filter(|word| {
            word.chars().count() >= 3
                && !word.contains(['&', '#', ';'])
                && !word.chars().any(|c| c.is_ascii_digit())
        })
        .map(str::to_lowercase)
        .collect()
}

/// Every word any message of a locale uses.
fn catalog_words(locale: Locale) -> BTreeSet<String> {
    catalog::sources(locale)
        .iter()
        .flat_map(|source| {
            source
                .lines()
                .filter(|line| !line.trim_start().starts_with('#'))
                .flat_map(|line| words(line.split_once('=').map_or(line, |(_, text)| text)))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The English words left in `rendered`, a text rendered in `locale` (an email or a page, with
/// its markup), where `english` is the same text rendered in English with the same values.
/// A word counts when the English rendering has it, the locale's own messages never use it,
/// and no value given to the template holds it: so a sentence a template says without
/// `t(...)` is found.
pub fn english_left(locale: Locale, english: &str, rendered: &str, values: &[&str]) -> Vec<String> {
    if locale == Locale::En {
        return Vec::new();
    }
    // Inline styles and scripts are not text.
    let strip = |text: &str| {
        let mut text = text.to_string();
        for tag in ["style", "script"] {
            while let Some(start) = text.find(&format!("<{tag}")) {
                let end = text[start..]
                    .find(&format!("</{tag}>"))
                    .map_or(text.len(), |end| start + end + tag.len() + 3);
                text.replace_range(start..end, " ");
            }
        }
        text
    };
    let english = words(&strip(english));
    let own = catalog_words(locale);
    let given: BTreeSet<String> = values.iter().flat_map(|value| words(value)).collect();
    words(&strip(rendered))
        .into_iter()
        .filter(|word| english.contains(word) && !own.contains(word) && !given.contains(word))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_locale_is_complete() {
        let problems: Vec<String> = Locale::ALL.into_iter().flat_map(catalog_problems).collect();
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    #[test]
    fn english_left_in_a_translation_is_found() {
        let english = "<p>Hello Ada,</p><p>Your invitation to Backend is here.</p>";
        let german = "<p>Hallo Ada,</p><p>Your invitation to Backend is here.</p>";
        let left = english_left(Locale::De, english, german, &["Ada", "Backend"]);
        assert!(left.contains(&"invitation".to_string()), "{left:?}");
        assert!(!left.contains(&"backend".to_string()), "{left:?}");
        let translated = "<p>Hallo Ada,</p><p>Ihre Einladung zu Backend ist da.</p>";
        assert!(english_left(Locale::De, english, translated, &["Ada", "Backend"]).is_empty());
    }
}
