//! The keymap as data: every binding with its keys, command, description,
//! group and the screens where it applies. Key handling, the help overlay and
//! the hint bar all read this one table, so they cannot drift apart.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Where the user is; decides which bindings apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Context {
    /// Sections and items.
    List,
    /// One item's detail.
    Detail,
    /// The critical path.
    Path,
    /// The review's sign-off log.
    Log,
    /// The environments side by side.
    Matrix,
    /// The objects a kube item selects.
    Objects,
    /// One object as YAML.
    Object,
    Help,
    /// The multi-line note editor.
    Note,
    /// The waiver form (reason, expiry).
    Form,
    /// The sign-off dialog.
    Signoff,
    /// A yes/no question (withdraw a waiver).
    Confirm,
    /// The `/` filter line.
    Filter,
    /// The `:` command line.
    Command,
}

/// What a key asks for. `update` gives each its meaning in the current context.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    Up,
    Down,
    Top,
    Bottom,
    PageUp,
    PageDown,
    NextPane,
    FocusSections,
    FocusItems,
    Open,
    /// Drill from a kube item to the objects it selects.
    Objects,
    Back,
    Tick,
    Note,
    Waive,
    Rerun,
    RerunAll,
    Signoff,
    Export,
    CriticalPath,
    /// The sign-off log of this review.
    Log,
    /// Items by environments.
    SideBySide,
    /// Copy the command that verifies the log.
    CopyVerify,
    Filter,
    CycleFilter,
    CycleSort,
    CopyId,
    CopyEvidence,
    PrevEnv,
    NextEnv,
    /// Environment by position, 0-based (the key `1` is 0).
    SelectEnv(u8),
    Help,
    CommandLine,
    Quit,
    Submit,
    NextField,
    NextChoice,
    PrevChoice,
    Complete,
}

/// One key press: a code and its modifiers (Shift is folded into the
/// character for letters and symbols).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chord {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Chord {
    pub const fn key(code: KeyCode) -> Chord {
        Chord {
            code,
            mods: KeyModifiers::NONE,
        }
    }
    pub const fn ch(c: char) -> Chord {
        Chord::key(KeyCode::Char(c))
    }
    pub const fn ctrl(c: char) -> Chord {
        Chord {
            code: KeyCode::Char(c),
            mods: KeyModifiers::CONTROL,
        }
    }

    /// The chord a terminal key event stands for.
    pub fn from_event(ev: &KeyEvent) -> Chord {
        let mut mods = ev.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT);
        let code = match ev.code {
            // Terminals send Shift-Tab as BackTab, some with SHIFT set.
            KeyCode::BackTab => KeyCode::BackTab,
            KeyCode::Char(c) if mods.contains(KeyModifiers::CONTROL) => {
                KeyCode::Char(c.to_ascii_lowercase())
            }
            other => other,
        };
        if !matches!(code, KeyCode::Char(_)) && ev.modifiers.contains(KeyModifiers::SHIFT) {
            mods |= KeyModifiers::SHIFT;
        }
        Chord { code, mods }
    }

    pub fn label(&self, ascii: bool) -> String {
        let base = match self.code {
            KeyCode::Char(' ') => "Space".to_string(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Up if !ascii => "↑".into(),
            KeyCode::Down if !ascii => "↓".into(),
            KeyCode::Left if !ascii => "←".into(),
            KeyCode::Right if !ascii => "→".into(),
            KeyCode::Up => "Up".into(),
            KeyCode::Down => "Down".into(),
            KeyCode::Left => "Left".into(),
            KeyCode::Right => "Right".into(),
            KeyCode::Enter => "Enter".into(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Tab => "Tab".into(),
            KeyCode::BackTab => "Shift-Tab".into(),
            KeyCode::Home => "Home".into(),
            KeyCode::End => "End".into(),
            KeyCode::PageUp => "PgUp".into(),
            KeyCode::PageDown => "PgDn".into(),
            other => format!("{other:?}"),
        };
        if self.mods.contains(KeyModifiers::CONTROL) {
            format!("Ctrl-{base}")
        } else if self.mods.contains(KeyModifiers::ALT) {
            format!("Alt-{base}")
        } else {
            base
        }
    }
}

/// A binding's key: one chord, or two in a row (`gg`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keys {
    One(Chord),
    Two(Chord, Chord),
}

impl Keys {
    pub fn label(&self, ascii: bool) -> String {
        match self {
            Keys::One(c) => c.label(ascii),
            Keys::Two(a, b) => format!("{}{}", a.label(ascii), b.label(ascii)),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Group {
    Move,
    Review,
    View,
    Environment,
    Edit,
    App,
    /// The `:` command line's words.
    Line,
}

impl Group {
    pub fn title(self) -> &'static str {
        match self {
            Group::Move => "Move",
            Group::Review => "Review",
            Group::View => "View",
            Group::Environment => "Environment",
            Group::Edit => "Dialogs and editors",
            Group::App => "App",
            Group::Line => "Command line (:)",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub keys: &'static [Keys],
    pub command: Command,
    pub description: &'static str,
    /// A short word for the hint bar; `None` keeps it out of the hint bar.
    pub hint: Option<&'static str>,
    pub group: Group,
    pub contexts: &'static [Context],
}

use Context as C;

const BROWSE: &[Context] = &[
    C::List,
    C::Detail,
    C::Path,
    C::Log,
    C::Matrix,
    C::Objects,
    C::Object,
];
/// Where an item is at hand for the review keys.
const ITEM: &[Context] = &[C::List, C::Detail, C::Path];
const SCROLL: &[Context] = &[
    C::List,
    C::Detail,
    C::Path,
    C::Log,
    C::Matrix,
    C::Objects,
    C::Object,
    C::Help,
];
/// The objects of a kube item, and one of them.
const OBJECTS: &[Context] = &[C::Objects, C::Object];
const EVERYWHERE: &[Context] = &[
    C::List,
    C::Detail,
    C::Path,
    C::Log,
    C::Matrix,
    C::Objects,
    C::Object,
    C::Help,
    C::Note,
    C::Form,
    C::Signoff,
    C::Confirm,
    C::Filter,
    C::Command,
];
const DIGITS: &[Keys] = &[
    Keys::One(Chord::ch('1')),
    Keys::One(Chord::ch('2')),
    Keys::One(Chord::ch('3')),
    Keys::One(Chord::ch('4')),
    Keys::One(Chord::ch('5')),
    Keys::One(Chord::ch('6')),
    Keys::One(Chord::ch('7')),
    Keys::One(Chord::ch('8')),
    Keys::One(Chord::ch('9')),
];

const fn one(c: Chord) -> Keys {
    Keys::One(c)
}

/// Every binding. Order matters twice: the hint bar shows them in this
/// order, and the first binding that matches a key wins.
pub static BINDINGS: &[Binding] = &[
    Binding {
        keys: &[one(Chord::key(KeyCode::Down)), one(Chord::ch('j'))],
        command: Command::Down,
        description: "move down / scroll down",
        hint: Some("move"),
        group: Group::Move,
        contexts: SCROLL,
    },
    Binding {
        keys: &[one(Chord::key(KeyCode::Up)), one(Chord::ch('k'))],
        command: Command::Up,
        description: "move up / scroll up",
        hint: None,
        group: Group::Move,
        contexts: SCROLL,
    },
    Binding {
        keys: &[
            Keys::Two(Chord::ch('g'), Chord::ch('g')),
            one(Chord::key(KeyCode::Home)),
        ],
        command: Command::Top,
        description: "go to the top",
        hint: None,
        group: Group::Move,
        contexts: SCROLL,
    },
    Binding {
        keys: &[one(Chord::ch('G')), one(Chord::key(KeyCode::End))],
        command: Command::Bottom,
        description: "go to the bottom",
        hint: None,
        group: Group::Move,
        contexts: SCROLL,
    },
    Binding {
        keys: &[one(Chord::key(KeyCode::PageUp)), one(Chord::ctrl('u'))],
        command: Command::PageUp,
        description: "page up",
        hint: None,
        group: Group::Move,
        contexts: SCROLL,
    },
    Binding {
        keys: &[one(Chord::key(KeyCode::PageDown)), one(Chord::ctrl('d'))],
        command: Command::PageDown,
        description: "page down",
        hint: None,
        group: Group::Move,
        contexts: SCROLL,
    },
    Binding {
        keys: &[one(Chord::key(KeyCode::Tab))],
        command: Command::NextPane,
        description: "switch between sections and items",
        hint: Some("pane"),
        group: Group::Move,
        contexts: &[C::List],
    },
    Binding {
        keys: &[one(Chord::key(KeyCode::Left)), one(Chord::ch('h'))],
        command: Command::FocusSections,
        description: "focus the sections",
        hint: None,
        group: Group::Move,
        contexts: &[C::List],
    },
    Binding {
        keys: &[one(Chord::key(KeyCode::Right)), one(Chord::ch('l'))],
        command: Command::FocusItems,
        description: "focus the items",
        hint: None,
        group: Group::Move,
        contexts: &[C::List],
    },
    Binding {
        keys: &[one(Chord::key(KeyCode::Enter))],
        command: Command::Open,
        description: "open the item's detail",
        hint: Some("open"),
        group: Group::Move,
        contexts: &[C::List, C::Path],
    },
    Binding {
        keys: &[one(Chord::key(KeyCode::Enter))],
        command: Command::Objects,
        description: "in a kube item's detail: its objects, out of line first",
        hint: None,
        group: Group::Move,
        contexts: &[C::Detail],
    },
    Binding {
        keys: &[one(Chord::key(KeyCode::Enter))],
        command: Command::Open,
        description: "on an object: its YAML, what expect reads marked",
        hint: Some("yaml"),
        group: Group::Move,
        contexts: &[C::Objects],
    },
    Binding {
        keys: &[one(Chord::ch(' '))],
        command: Command::Tick,
        description: "tick / untick a manual item",
        hint: Some("tick"),
        group: Group::Review,
        contexts: ITEM,
    },
    Binding {
        keys: &[one(Chord::ch('n'))],
        command: Command::Note,
        description: "add a note",
        hint: Some("note"),
        group: Group::Review,
        contexts: ITEM,
    },
    Binding {
        keys: &[one(Chord::ch('w'))],
        command: Command::Waive,
        description: "waive (with a reason and optional expiry) / withdraw a waiver",
        hint: Some("waive"),
        group: Group::Review,
        contexts: ITEM,
    },
    Binding {
        keys: &[one(Chord::ch('r'))],
        command: Command::Rerun,
        description: "re-run this item's probe now",
        hint: Some("rerun"),
        group: Group::Review,
        contexts: ITEM,
    },
    Binding {
        keys: &[one(Chord::ch('R'))],
        command: Command::RerunAll,
        description: "re-run every probe now (snapshot files read again)",
        hint: None,
        group: Group::Review,
        contexts: BROWSE,
    },
    Binding {
        keys: &[one(Chord::ch('s'))],
        command: Command::Signoff,
        description: "sign off this checklist in this environment",
        hint: Some("sign"),
        group: Group::Review,
        contexts: BROWSE,
    },
    Binding {
        keys: &[one(Chord::ch('e'))],
        command: Command::Export,
        description: "export the sign-off document",
        hint: None,
        group: Group::Review,
        contexts: BROWSE,
    },
    Binding {
        keys: &[one(Chord::ch('c'))],
        command: Command::CriticalPath,
        description: "show the critical path (open blockers and highs)",
        hint: Some("path"),
        group: Group::View,
        contexts: &[C::List, C::Detail],
    },
    Binding {
        keys: &[one(Chord::ch('L'))],
        command: Command::Log,
        description: "the sign-off log: who did what, the sign-offs, the head hash",
        hint: Some("log"),
        group: Group::View,
        contexts: &[C::List, C::Detail, C::Path, C::Matrix],
    },
    Binding {
        keys: &[one(Chord::ch('v'))],
        command: Command::SideBySide,
        description: "the environments side by side: each item's status in each",
        hint: Some("envs"),
        group: Group::View,
        contexts: &[C::List, C::Detail, C::Path, C::Log],
    },
    Binding {
        keys: &[one(Chord::ch('O'))],
        command: Command::Objects,
        description: "a kube item's objects, out of line first",
        hint: None,
        group: Group::View,
        contexts: ITEM,
    },
    Binding {
        keys: &[one(Chord::ch('y'))],
        command: Command::CopyVerify,
        description: "on the log: copy the command that verifies it",
        hint: Some("copy verify"),
        group: Group::View,
        contexts: &[C::Log],
    },
    Binding {
        keys: &[one(Chord::ch('/'))],
        command: Command::Filter,
        description: "filter items by text",
        hint: Some("filter"),
        group: Group::View,
        contexts: &[C::List],
    },
    Binding {
        keys: &[one(Chord::ch('f'))],
        command: Command::CycleFilter,
        description: "cycle status filter: all, open, failing",
        hint: None,
        group: Group::View,
        contexts: &[C::List],
    },
    Binding {
        keys: &[one(Chord::ch('y'))],
        command: Command::CopyId,
        description: "copy the item's id to the clipboard (OSC 52; works over SSH)",
        hint: None,
        group: Group::View,
        contexts: ITEM,
    },
    Binding {
        keys: &[one(Chord::ch('Y'))],
        command: Command::CopyEvidence,
        description: "copy the item's evidence (its latest result) to the clipboard",
        hint: None,
        group: Group::View,
        contexts: ITEM,
    },
    Binding {
        keys: &[one(Chord::ch('y'))],
        command: Command::CopyId,
        description: "on the objects: copy the object's namespace/name",
        hint: None,
        group: Group::View,
        contexts: OBJECTS,
    },
    Binding {
        keys: &[one(Chord::ch('Y'))],
        command: Command::CopyEvidence,
        description: "on the objects: copy the reason, or the YAML shown",
        hint: Some("copy"),
        group: Group::View,
        contexts: OBJECTS,
    },
    Binding {
        keys: &[one(Chord::ch('o'))],
        command: Command::CycleSort,
        description: "cycle the order: auto (problems first while NO-GO), status, severity, age, checklist",
        hint: None,
        group: Group::View,
        contexts: &[C::List],
    },
    Binding {
        keys: &[one(Chord::ch('['))],
        command: Command::PrevEnv,
        description: "previous environment",
        hint: None,
        group: Group::Environment,
        contexts: BROWSE,
    },
    Binding {
        keys: &[one(Chord::ch(']'))],
        command: Command::NextEnv,
        description: "next environment",
        hint: Some("env"),
        group: Group::Environment,
        contexts: BROWSE,
    },
    Binding {
        keys: DIGITS,
        command: Command::SelectEnv(0),
        description: "environment by number",
        hint: None,
        group: Group::Environment,
        contexts: BROWSE,
    },
    Binding {
        keys: &[one(Chord::key(KeyCode::Esc))],
        command: Command::Back,
        description: "back one level / close / cancel (never quits)",
        hint: Some("back"),
        group: Group::App,
        contexts: EVERYWHERE,
    },
    Binding {
        keys: &[one(Chord::ch('q'))],
        command: Command::Back,
        description: "close help",
        hint: Some("close"),
        group: Group::App,
        contexts: &[C::Help],
    },
    Binding {
        keys: &[one(Chord::ch('?'))],
        command: Command::Help,
        description: "help: every key",
        hint: Some("help"),
        group: Group::App,
        contexts: &[
            C::List,
            C::Detail,
            C::Path,
            C::Log,
            C::Matrix,
            C::Objects,
            C::Object,
            C::Help,
        ],
    },
    Binding {
        keys: &[one(Chord::ch(':'))],
        command: Command::CommandLine,
        description: "command line: env, checklist, filter, export, quit",
        hint: None,
        group: Group::App,
        contexts: BROWSE,
    },
    Binding {
        keys: &[one(Chord::ch('q'))],
        command: Command::Quit,
        description: "quit",
        hint: Some("quit"),
        group: Group::App,
        contexts: BROWSE,
    },
    Binding {
        keys: &[one(Chord::ctrl('c'))],
        command: Command::Quit,
        description: "quit from anywhere",
        hint: None,
        group: Group::App,
        contexts: EVERYWHERE,
    },
    Binding {
        keys: &[one(Chord::ctrl('s'))],
        command: Command::Submit,
        description: "save",
        hint: Some("save"),
        group: Group::Edit,
        contexts: &[C::Note, C::Form],
    },
    Binding {
        keys: &[one(Chord::key(KeyCode::Enter))],
        command: Command::Submit,
        description: "confirm",
        hint: Some("confirm"),
        group: Group::Edit,
        contexts: &[C::Form, C::Signoff, C::Confirm, C::Filter, C::Command],
    },
    Binding {
        keys: &[one(Chord::ch('y'))],
        command: Command::Submit,
        description: "yes",
        hint: None,
        group: Group::Edit,
        contexts: &[C::Confirm],
    },
    Binding {
        keys: &[one(Chord::ch('n'))],
        command: Command::Back,
        description: "no",
        hint: None,
        group: Group::Edit,
        contexts: &[C::Confirm],
    },
    Binding {
        keys: &[one(Chord::key(KeyCode::Tab))],
        command: Command::NextField,
        description: "next field",
        hint: Some("field"),
        group: Group::Edit,
        contexts: &[C::Form],
    },
    Binding {
        keys: &[one(Chord::key(KeyCode::Tab))],
        command: Command::NextChoice,
        description: "next decision",
        hint: Some("decision"),
        group: Group::Edit,
        contexts: &[C::Signoff],
    },
    Binding {
        keys: &[one(Chord {
            code: KeyCode::BackTab,
            mods: KeyModifiers::SHIFT,
        })],
        command: Command::PrevChoice,
        description: "previous decision",
        hint: None,
        group: Group::Edit,
        contexts: &[C::Signoff],
    },
    Binding {
        keys: &[one(Chord::key(KeyCode::Tab))],
        command: Command::Complete,
        description: "complete the command or its argument",
        hint: Some("complete"),
        group: Group::Edit,
        contexts: &[C::Command],
    },
];

/// What a key press resolved to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolved {
    Run(Command),
    /// The first key of a two-key binding: wait for the next.
    Prefix(Chord),
    Unbound,
}

/// Looks `event` up for `context`, after `pending` (the first key of a
/// sequence, if one was pressed).
pub fn resolve(context: Context, pending: Option<Chord>, event: &KeyEvent) -> Resolved {
    let chord = Chord::from_event(event);
    let applies = |b: &&Binding| b.contexts.contains(&context);
    if let Some(first) = pending {
        for b in BINDINGS.iter().filter(applies) {
            if b.keys.contains(&Keys::Two(first, chord)) {
                return Resolved::Run(b.command);
            }
        }
    }
    for b in BINDINGS.iter().filter(applies) {
        for keys in b.keys {
            match keys {
                Keys::One(c) if *c == chord => return Resolved::Run(with_digit(b.command, chord)),
                Keys::Two(a, _) if *a == chord => return Resolved::Prefix(chord),
                _ => {}
            }
        }
    }
    Resolved::Unbound
}

/// The digit bindings share one entry; the key says which environment.
fn with_digit(command: Command, chord: Chord) -> Command {
    match (command, chord.code) {
        (Command::SelectEnv(_), KeyCode::Char(d @ '1'..='9')) => Command::SelectEnv(d as u8 - b'1'),
        _ => command,
    }
}

/// All keys of a binding as one label: `↓/j`, `1…9`.
pub fn keys_label(b: &Binding, ascii: bool) -> String {
    if b.command == Command::SelectEnv(0) {
        return if ascii { "1-9".into() } else { "1…9".into() };
    }
    let labels: Vec<String> = b.keys.iter().map(|k| k.label(ascii)).collect();
    labels.join("/")
}

/// The README's key table, from the same bindings the help shows: a row
/// per binding outside the dialogs (their keys are in the hint bar), in
/// table order. A test keeps the README's copy equal to this.
pub fn markdown_keys() -> String {
    let mut out = String::from("| key | does |\n|---|---|\n");
    let mut seen: Vec<(String, &str)> = Vec::new();
    for b in BINDINGS.iter().filter(|b| b.group != Group::Edit) {
        let labels: Vec<String> = if b.command == Command::SelectEnv(0) {
            vec![keys_label(b, false)]
        } else {
            b.keys.iter().map(|k| k.label(false)).collect()
        };
        let keys = labels
            .iter()
            .map(|k| format!("`{}`", k.replace('|', "\\|")))
            .collect::<Vec<_>>()
            .join(" ");
        if seen.iter().any(|(k, d)| *k == keys && *d == b.description) {
            continue;
        }
        out.push_str(&format!(
            "| {keys} | {} |\n",
            b.description.replace('|', "\\|")
        ));
        seen.push((keys, b.description));
    }
    out
}

/// The hint bar's entries for `context`: (keys, word), in table order.
pub fn hints(context: Context, ascii: bool) -> Vec<(String, &'static str)> {
    let mut out: Vec<(String, &'static str)> = Vec::new();
    for b in BINDINGS.iter().filter(|b| b.contexts.contains(&context)) {
        let Some(hint) = b.hint else { continue };
        // The primary key only: the bar is short.
        let key = match b.command {
            Command::Down => {
                if ascii {
                    "j/k".to_string()
                } else {
                    "↑↓".to_string()
                }
            }
            _ => b.keys.first().map(|k| k.label(ascii)).unwrap_or_default(),
        };
        if !out.iter().any(|(_, h)| *h == hint) {
            out.push((key, hint));
        }
    }
    out
}

/// The help overlay's rows: group title, then (keys, description) per binding.
pub fn help(ascii: bool) -> Vec<(Group, Vec<(String, &'static str)>)> {
    let mut groups: Vec<(Group, Vec<(String, &'static str)>)> = Vec::new();
    for b in BINDINGS {
        let row = (keys_label(b, ascii), b.description);
        match groups.iter_mut().find(|(g, _)| *g == b.group) {
            Some((_, rows)) => rows.push(row),
            None => groups.push((b.group, vec![row])),
        }
    }
    let words = WORDS.iter().map(|w| (w.usage(), w.description)).collect();
    groups.push((Group::Line, words));
    groups.sort_by_key(|(g, _)| *g);
    groups
}

/// What a word of the `:` command line takes after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg {
    None,
    /// An environment's name.
    Env,
    /// A checklist's id.
    Checklist,
    /// `all`, `open`, `failing`, or text to match.
    Filter,
    /// A file to write, optional.
    File,
    /// An item's id in the shown checklist.
    Item,
    /// An order of the rows (`Sort::names`).
    Sort,
}

/// What a word does: one of the keys' commands, or one that needs its
/// argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Does {
    Run(Command),
    SwitchEnv,
    SwitchChecklist,
    SetFilter,
    ExportTo,
    JumpToItem,
    SetSort,
}

/// One word of the `:` command line, beside the keys: the one table the
/// command line, its completion and the help all read.
#[derive(Debug, Clone, Copy)]
pub struct Word {
    pub name: &'static str,
    /// A one-letter short form.
    pub short: Option<&'static str>,
    pub arg: Arg,
    pub does: Does,
    pub description: &'static str,
}

impl Word {
    /// `env NAME`, as the help shows it.
    pub fn usage(&self) -> String {
        let arg = match self.arg {
            Arg::None => "",
            Arg::Env => " NAME",
            Arg::Checklist => " ID",
            Arg::Filter => " all|open|failing|TEXT",
            Arg::File => " [FILE]",
            Arg::Item => " ID",
            Arg::Sort => " auto|status|severity|age|checklist",
        };
        format!(":{}{arg}", self.name)
    }
}

pub const WORDS: &[Word] = &[
    Word {
        name: "env",
        short: Some("e"),
        arg: Arg::Env,
        does: Does::SwitchEnv,
        description: "switch to the environment NAME",
    },
    Word {
        name: "checklist",
        short: Some("c"),
        arg: Arg::Checklist,
        does: Does::SwitchChecklist,
        description: "show the checklist ID",
    },
    Word {
        name: "filter",
        short: Some("f"),
        arg: Arg::Filter,
        does: Does::SetFilter,
        description: "show all, open or failing items, or those matching TEXT",
    },
    Word {
        name: "item",
        short: Some("i"),
        arg: Arg::Item,
        does: Does::JumpToItem,
        description: "go to the item ID (clearing filters that hide it)",
    },
    Word {
        name: "sort",
        short: None,
        arg: Arg::Sort,
        does: Does::SetSort,
        description: "order the items",
    },
    Word {
        name: "export",
        short: None,
        arg: Arg::File,
        does: Does::ExportTo,
        description: "write the sign-off document (to FILE; ~/ is your home)",
    },
    Word {
        name: "path",
        short: None,
        arg: Arg::None,
        does: Does::Run(Command::CriticalPath),
        description: "the critical path",
    },
    Word {
        name: "log",
        short: None,
        arg: Arg::None,
        does: Does::Run(Command::Log),
        description: "the sign-off log of this review",
    },
    Word {
        name: "objects",
        short: None,
        arg: Arg::None,
        does: Does::Run(Command::Objects),
        description: "the objects the kube item selects",
    },
    Word {
        name: "side",
        short: None,
        arg: Arg::None,
        does: Does::Run(Command::SideBySide),
        description: "the environments side by side",
    },
    Word {
        name: "rerun",
        short: None,
        arg: Arg::None,
        does: Does::Run(Command::RerunAll),
        description: "re-run every probe",
    },
    Word {
        name: "signoff",
        short: None,
        arg: Arg::None,
        does: Does::Run(Command::Signoff),
        description: "sign the review off",
    },
    Word {
        name: "help",
        short: None,
        arg: Arg::None,
        does: Does::Run(Command::Help),
        description: "this help",
    },
    Word {
        name: "quit",
        short: Some("q"),
        arg: Arg::None,
        does: Does::Run(Command::Quit),
        description: "quit",
    },
];

/// The word `typed` names, by name or short form.
pub fn word(typed: &str) -> Option<&'static Word> {
    WORDS
        .iter()
        .find(|w| w.name == typed || w.short == Some(typed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn shifted_letters_and_ctrl() {
        let g = press(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(resolve(C::List, None, &g), Resolved::Run(Command::Bottom));
        let cc = press(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(resolve(C::Note, None, &cc), Resolved::Run(Command::Quit));
        let q = press(KeyCode::Char('q'), KeyModifiers::NONE);
        assert_eq!(resolve(C::Note, None, &q), Resolved::Unbound);
        assert_eq!(resolve(C::Help, None, &q), Resolved::Run(Command::Back));
    }

    #[test]
    fn sequences_and_digits() {
        let g = press(KeyCode::Char('g'), KeyModifiers::NONE);
        let first = resolve(C::List, None, &g);
        assert_eq!(first, Resolved::Prefix(Chord::ch('g')));
        assert_eq!(
            resolve(C::List, Some(Chord::ch('g')), &g),
            Resolved::Run(Command::Top)
        );
        let three = press(KeyCode::Char('3'), KeyModifiers::NONE);
        assert_eq!(
            resolve(C::List, None, &three),
            Resolved::Run(Command::SelectEnv(2))
        );
    }

    #[test]
    fn no_two_bindings_share_a_key_in_one_context() {
        for ctx in EVERYWHERE {
            let mut seen: Vec<Keys> = Vec::new();
            for b in BINDINGS.iter().filter(|b| b.contexts.contains(ctx)) {
                for k in b.keys {
                    assert!(!seen.contains(k), "{k:?} bound twice in {ctx:?}");
                    seen.push(*k);
                }
            }
        }
    }

    #[test]
    fn ascii_labels_are_ascii() {
        for b in BINDINGS {
            assert!(keys_label(b, true).is_ascii(), "{}", keys_label(b, true));
        }
    }
}
