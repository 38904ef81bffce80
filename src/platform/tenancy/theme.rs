//! A city's branding, kept in the registry: colours, address and contacts. Files (logo,
//! extra CSS, template overrides) live under `themes/<slug>/`.

use serde::{Deserialize, Serialize};

use crate::platform::error::AppError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Theme {
    /// Main colour (`#rrggbb`): header, buttons, links. White text must read on it.
    pub primary: String,
    /// Secondary colour (`#rrggbb`): accents, focus ring.
    pub accent: String,
    /// Postal address, one line per entry.
    pub address: Vec<String>,
    pub phone: String,
    pub email: String,
    pub website: String,
}

impl Default for Theme {
    fn default() -> Self {
        Theme {
            primary: "#2b4c7e".into(),
            accent: "#c0392b".into(),
            address: Vec::new(),
            phone: String::new(),
            email: String::new(),
            website: String::new(),
        }
    }
}

/// RGAA asks for 4.5:1 between text and background.
const MIN_CONTRAST: f64 = 4.5;

impl Theme {
    /// Checks colours are `#rrggbb` and that white text on the main colour stays legible.
    pub fn validate(&self) -> Result<(), AppError> {
        let primary = parse_hex(&self.primary).ok_or_else(|| {
            AppError::invalid(format!(
                "couleur principale invalide « {} » : format #rrvvbb attendu",
                self.primary
            ))
        })?;
        parse_hex(&self.accent).ok_or_else(|| {
            AppError::invalid(format!(
                "couleur secondaire invalide « {} » : format #rrvvbb attendu",
                self.accent
            ))
        })?;
        let ratio = contrast_ratio(primary, (255, 255, 255));
        if ratio < MIN_CONTRAST {
            return Err(AppError::invalid(format!(
                "la couleur principale {} est trop claire : contraste {:.1}:1 avec le texte blanc, \
                 le RGAA demande au moins 4,5:1",
                self.primary, ratio
            )));
        }
        Ok(())
    }

    /// CSS custom properties consumed by the shared stylesheet (Pico + ours).
    pub fn css_variables(&self) -> String {
        format!(
            // Pico sets its colours on this selector; ours must be as specific.
            ":root:not([data-theme=dark]), [data-theme=light] {{\n  --marelle-primary: {p};\n  --marelle-accent: {a};\n  \
             --pico-primary: {p};\n  --pico-primary-background: {p};\n  \
             --pico-primary-border: {p};\n  --pico-primary-underline: {p};\n  \
             --pico-primary-hover: {a};\n  --pico-primary-hover-background: {a};\n  \
             --pico-primary-focus: {a}55;\n}}\n",
            p = self.primary,
            a = self.accent
        )
    }
}

fn parse_hex(colour: &str) -> Option<(u8, u8, u8)> {
    let hex = colour.strip_prefix('#')?;
    if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let channel = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    Some((channel(0)?, channel(2)?, channel(4)?))
}

/// WCAG 2.x contrast ratio between two sRGB colours.
fn contrast_ratio(a: (u8, u8, u8), b: (u8, u8, u8)) -> f64 {
    fn luminance((r, g, b): (u8, u8, u8)) -> f64 {
        let linear = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.039_28 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
    }
    let (la, lb) = (luminance(a), luminance(b));
    let (light, dark) = if la > lb { (la, lb) } else { (lb, la) };
    (light + 0.05) / (dark + 0.05)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contrast_matches_known_values() {
        assert!((contrast_ratio((0, 0, 0), (255, 255, 255)) - 21.0).abs() < 1e-9);
        assert!((contrast_ratio((255, 255, 255), (255, 255, 255)) - 1.0).abs() < 1e-9);
        // #767676 on white is the classic 4.54:1 limit grey.
        assert!((contrast_ratio((0x76, 0x76, 0x76), (255, 255, 255)) - 4.54).abs() < 0.01);
    }

    #[test]
    fn too_light_primary_colours_are_refused_in_french() {
        let theme = Theme {
            primary: "#ffdd00".into(),
            ..Theme::default()
        };
        let error = theme.validate().unwrap_err().to_string();
        assert!(error.contains("trop claire"), "{error}");
        assert!(Theme::default().validate().is_ok());
        let malformed = Theme {
            accent: "bleu".into(),
            ..Theme::default()
        };
        assert!(malformed.validate().is_err());
    }
}
