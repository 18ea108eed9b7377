//! Themes: named meanings (pass, fail, danger, selection ...) mapped to
//! terminal styles, read from `themes/*.toml` bundled into the binary or from
//! the user's config folder, which overrides a bundled theme of the same name.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

use crate::review::{Decision, Status};

/// The themes compiled into the binary.
pub const BUNDLED: &[(&str, &str)] = &[
    ("default", include_str!("../../themes/default.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    ("mono", include_str!("../../themes/mono.toml")),
];

/// Styles by meaning. Widgets pick the meaning; the theme picks the look.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    pub text: Style,
    pub muted: Style,
    pub accent: Style,
    pub selection: Style,
    pub pass: Style,
    pub fail: Style,
    pub error: Style,
    pub pending: Style,
    pub waived: Style,
    pub warning: Style,
    pub danger: Style,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTheme {
    name: Option<String>,
    text: Option<String>,
    muted: Option<String>,
    accent: Option<String>,
    selection: Option<String>,
    pass: Option<String>,
    fail: Option<String>,
    error: Option<String>,
    pending: Option<String>,
    waived: Option<String>,
    warning: Option<String>,
    danger: Option<String>,
}

impl Theme {
    /// The bundled default theme.
    pub fn default_dark() -> Theme {
        Theme::bundled("default").expect("the bundled default theme parses: a test checks it")
    }

    /// The bundled colourless theme.
    pub fn mono() -> Theme {
        Theme::bundled("mono").expect("the bundled mono theme parses: a test checks it")
    }

    pub fn bundled(name: &str) -> Result<Theme, String> {
        let (_, text) = BUNDLED
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| format!("no bundled theme `{name}`"))?;
        Theme::parse(name, text, &format!("<builtin>/themes/{name}.toml"))
    }

    /// Parses a theme file. Keys it leaves out come from the default theme,
    /// so a user theme can change just one meaning.
    pub fn parse(name: &str, text: &str, origin: &str) -> Result<Theme, String> {
        let raw: RawTheme =
            toml::from_str(text).map_err(|e| format!("{origin}: {}", e.message().trim_end()))?;
        let base = if name == "default" {
            None
        } else {
            Some(Theme::default_dark())
        };
        let pick =
            |field: &Option<String>, key: &str, fallback: Option<Style>| match (field, fallback) {
                (Some(spec), _) => parse_style(spec).map_err(|e| format!("{origin}: `{key}`: {e}")),
                (None, Some(style)) => Ok(style),
                (None, None) => Err(format!("{origin}: `{key}` is missing")),
            };
        let b = base.as_ref();
        Ok(Theme {
            name: raw.name.clone().unwrap_or_else(|| name.to_string()),
            text: pick(&raw.text, "text", b.map(|t| t.text))?,
            muted: pick(&raw.muted, "muted", b.map(|t| t.muted))?,
            accent: pick(&raw.accent, "accent", b.map(|t| t.accent))?,
            selection: pick(&raw.selection, "selection", b.map(|t| t.selection))?,
            pass: pick(&raw.pass, "pass", b.map(|t| t.pass))?,
            fail: pick(&raw.fail, "fail", b.map(|t| t.fail))?,
            error: pick(&raw.error, "error", b.map(|t| t.error))?,
            pending: pick(&raw.pending, "pending", b.map(|t| t.pending))?,
            waived: pick(&raw.waived, "waived", b.map(|t| t.waived))?,
            warning: pick(&raw.warning, "warning", b.map(|t| t.warning))?,
            danger: pick(&raw.danger, "danger", b.map(|t| t.danger))?,
        })
    }

    /// Finds theme `name`: a user theme in `user_dir` first, then a bundled one.
    pub fn load(name: &str, user_dir: Option<&Path>) -> Result<Theme, String> {
        if let Some(dir) = user_dir {
            let path = dir.join(format!("{name}.toml"));
            if path.is_file() {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                return Theme::parse(name, &text, &path.display().to_string());
            }
        }
        Theme::bundled(name).map_err(|_| {
            let available = Theme::available(user_dir);
            let hint = crate::diag::did_you_mean(name, available.iter().map(String::as_str));
            format!(
                "no theme `{name}`{hint} (available: {})",
                available.join(", ")
            )
        })
    }

    /// Every theme name: bundled and user ones.
    pub fn available(user_dir: Option<&Path>) -> Vec<String> {
        let mut names: BTreeMap<String, ()> =
            BUNDLED.iter().map(|(n, _)| (n.to_string(), ())).collect();
        if let Some(dir) = user_dir
            && let Ok(entries) = std::fs::read_dir(dir)
        {
            for e in entries.flatten() {
                let p = e.path();
                if p.extension().is_some_and(|x| x == "toml")
                    && let Some(stem) = p.file_stem()
                {
                    names.insert(stem.to_string_lossy().into_owned(), ());
                }
            }
        }
        names.into_keys().collect()
    }

    /// `<config dir>/themes`, where user themes live.
    pub fn user_dir() -> Option<PathBuf> {
        crate::config::project_dirs().map(|d| d.config_dir().join("themes"))
    }

    pub fn status(&self, status: Status) -> Style {
        match status {
            Status::Pass | Status::Done => self.pass,
            Status::Fail => self.fail,
            Status::Error => self.error,
            Status::Pending => self.pending,
            Status::Waived => self.waived,
            Status::Skipped => self.muted,
        }
    }

    pub fn decision(&self, decision: Decision) -> Style {
        match decision {
            Decision::Go => self.pass,
            Decision::GoWithConditions => self.warning,
            Decision::NoGo => self.danger,
        }
    }
}

/// Which theme to use: `--theme` wins, then `NO_COLOR` (mono), then the
/// config, then `default`.
pub fn choose(flag: Option<&str>, config: Option<&str>, no_color: bool) -> String {
    match (flag, no_color, config) {
        (Some(name), _, _) => name.to_string(),
        (None, true, _) => "mono".into(),
        (None, false, Some(name)) => name.to_string(),
        (None, false, None) => "default".into(),
    }
}

/// Whether `NO_COLOR` asks for no colour (set and not empty, per no-color.org).
pub fn no_color_requested() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// `"lightred on #202020 bold"`: a foreground, optionally `on` a background,
/// and modifiers, in any order.
pub fn parse_style(spec: &str) -> Result<Style, String> {
    let mut style = Style::default();
    let mut words = spec.split_whitespace();
    while let Some(word) = words.next() {
        let lower = word.to_ascii_lowercase();
        let modifier = match lower.as_str() {
            "bold" => Some(Modifier::BOLD),
            "dim" => Some(Modifier::DIM),
            "italic" => Some(Modifier::ITALIC),
            "underlined" | "underline" => Some(Modifier::UNDERLINED),
            "reversed" | "reverse" => Some(Modifier::REVERSED),
            _ => None,
        };
        if let Some(m) = modifier {
            style = style.add_modifier(m);
        } else if lower == "on" {
            let bg = words
                .next()
                .ok_or_else(|| format!("`on` needs a colour in {spec:?}"))?;
            style = style.bg(parse_color(bg)?);
        } else {
            style = style.fg(parse_color(word)?);
        }
    }
    Ok(style)
}

fn parse_color(word: &str) -> Result<Color, String> {
    let lower = word.to_ascii_lowercase();
    if let Some(hex) = lower.strip_prefix('#') {
        let bad = || format!("{word:?} is not a #rrggbb colour");
        // Checked before slicing: `#12345` must be an error, not a panic.
        if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let channel = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|_| bad());
        return Ok(Color::Rgb(channel(0)?, channel(2)?, channel(4)?));
    }
    let named = match lower.as_str() {
        "reset" | "default" => Color::Reset,
        "black" => Color::Black,
        "red" => Color::Red,
        "green" => Color::Green,
        "yellow" => Color::Yellow,
        "blue" => Color::Blue,
        "magenta" => Color::Magenta,
        "cyan" => Color::Cyan,
        "gray" | "grey" => Color::Gray,
        "darkgray" | "darkgrey" => Color::DarkGray,
        "lightred" => Color::LightRed,
        "lightgreen" => Color::LightGreen,
        "lightyellow" => Color::LightYellow,
        "lightblue" => Color::LightBlue,
        "lightmagenta" => Color::LightMagenta,
        "lightcyan" => Color::LightCyan,
        "white" => Color::White,
        _ => return Err(format!("unknown colour or modifier {word:?}")),
    };
    Ok(named)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_theme_parses() {
        for (name, _) in BUNDLED {
            let t = Theme::bundled(name).expect("bundled theme");
            assert_eq!(&t.name, name);
        }
    }

    #[test]
    fn mono_has_no_colour() {
        let t = Theme::mono();
        for s in [
            t.text,
            t.muted,
            t.accent,
            t.selection,
            t.pass,
            t.fail,
            t.error,
            t.pending,
            t.waived,
            t.warning,
            t.danger,
        ] {
            assert!(matches!(s.fg, None | Some(Color::Reset)), "{s:?}");
            assert!(matches!(s.bg, None | Some(Color::Reset)), "{s:?}");
        }
    }

    #[test]
    fn style_syntax() {
        let s = parse_style("white on #102030 bold").expect("valid");
        assert_eq!(s.fg, Some(Color::White));
        assert_eq!(s.bg, Some(Color::Rgb(0x10, 0x20, 0x30)));
        assert!(s.add_modifier.contains(Modifier::BOLD));
        assert!(parse_style("chartreuse").is_err());
        assert!(parse_style("#12345").is_err());
        assert!(parse_style("#1234567").is_err());
        assert!(parse_style("#12345g").is_err());
        assert!(parse_style("red on").is_err());
    }

    #[test]
    fn user_theme_overrides_one_meaning() {
        let t = Theme::parse("mine", "fail = \"blue\"", "mine.toml").expect("valid");
        assert_eq!(t.fail.fg, Some(Color::Blue));
        assert_eq!(t.pass, Theme::default_dark().pass);
        let e = Theme::parse("mine", "failure = \"blue\"", "mine.toml").expect_err("unknown key");
        assert!(e.contains("mine.toml"), "{e}");
    }

    #[test]
    fn no_color_picks_mono_unless_a_theme_is_named() {
        assert_eq!(choose(None, Some("light"), true), "mono");
        assert_eq!(choose(Some("light"), None, true), "light");
        assert_eq!(choose(None, Some("light"), false), "light");
        assert_eq!(choose(None, None, false), "default");
    }
}
