//! Text typed into the open dialog: the note editor, the waiver form, the
//! sign-off note, the filter and the command line.

use super::*;

impl App {
    pub(super) fn text_input(&mut self, ev: KeyEvent) {
        match &mut self.ui.modal {
            Some(Modal::Note(editor)) => {
                editor.text.input(ev);
            }
            Some(Modal::Waive(form)) => {
                let field = if form.field == 0 {
                    &mut form.reason
                } else {
                    &mut form.until
                };
                single_line_input(field, ev);
                form.error = None;
            }
            Some(Modal::Signoff(d)) => single_line_input(&mut d.note, ev),
            Some(Modal::Filter { input, .. }) => {
                single_line_input(input, ev);
                self.ui.filter = input.lines().join(" ");
                self.ui.cursor = 0;
                self.ui.selected = None;
                self.stale = true;
            }
            Some(Modal::Command(line)) => {
                single_line_input(&mut line.input, ev);
                line.candidates.clear();
            }
            _ => {}
        }
    }

    pub(super) fn paste(&mut self, text: &str) {
        self.dirty = true;
        let clean = crate::text::sanitize(text, true);
        let one_line = clean.replace(['\n', '\t'], " ");
        match &mut self.ui.modal {
            Some(Modal::Note(editor)) => {
                editor.text.insert_str(&clean);
            }
            Some(Modal::Waive(form)) => {
                let field = if form.field == 0 {
                    &mut form.reason
                } else {
                    &mut form.until
                };
                field.insert_str(&one_line);
            }
            Some(Modal::Signoff(d)) => {
                d.note.insert_str(&one_line);
            }
            Some(Modal::Filter { input, .. }) => {
                input.insert_str(&one_line);
                self.ui.filter = input.lines().join(" ");
                self.stale = true;
            }
            Some(Modal::Command(line)) => {
                line.input.insert_str(&one_line);
            }
            _ => {}
        }
    }
}

/// Keys for a one-line field: Enter never makes a second line.
pub(super) fn single_line_input(field: &mut TextArea<'static>, ev: KeyEvent) {
    if ev.code == crossterm::event::KeyCode::Enter {
        return;
    }
    field.input(ev);
}
