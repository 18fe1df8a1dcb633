//! The keyboard: a key press becomes a state change and maybe an [`Action`].

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::app::{Action, App, Pane};

/// The keys, for the footer.
pub const HELP: &str = "Tab pane · ↑↓ select · d disable · e enable · r reload · q quit";

impl App {
    /// Handles one key press; releases and repeats of other keys are ignored.
    pub fn on_key(&mut self, key: KeyEvent) -> Action {
        if key.kind == KeyEventKind::Release {
            return Action::None;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('c') if ctrl => Action::Quit,
            KeyCode::Char('q') | KeyCode::Esc => Action::Quit,
            KeyCode::Tab => {
                self.focus = self.focus.next();
                Action::None
            }
            KeyCode::BackTab => {
                self.focus = self.focus.previous();
                Action::None
            }
            KeyCode::Up | KeyCode::Char('k') => {
                self.scroll(-1);
                Action::None
            }
            KeyCode::Down | KeyCode::Char('j') => {
                self.scroll(1);
                Action::None
            }
            KeyCode::PageUp => {
                self.scroll(-10);
                Action::None
            }
            KeyCode::PageDown => {
                self.scroll(10);
                Action::None
            }
            KeyCode::Char('d') => self.provider_action(Action::Disable),
            KeyCode::Char('e') => self.provider_action(Action::Enable),
            KeyCode::Char('r') => {
                self.set_notice("reloading…", false);
                Action::Reload
            }
            _ => Action::None,
        }
    }

    /// ↑/↓ in the focused pane: the provider selection, or a scroll offset.
    fn scroll(&mut self, delta: isize) {
        match self.focus {
            Pane::Providers => self.move_selection(delta),
            Pane::Keys => {
                let keys = self.selected_provider().map_or(0, |p| p.keys.len());
                self.keys_scroll = step(self.keys_scroll, delta, keys);
            }
            Pane::Log => self.log_scroll = step(self.log_scroll, delta, self.log.len()),
        }
    }

    /// `d`/`e` on the selected provider, or a note that there is none.
    fn provider_action(&mut self, make: fn(String) -> Action) -> Action {
        let Some(name) = self.selected_provider().map(|p| p.name.clone()) else {
            self.set_notice("no provider selected", true);
            return Action::None;
        };
        let action = make(name.clone());
        let verb = if matches!(action, Action::Disable(_)) {
            "disabling"
        } else {
            "enabling"
        };
        self.set_notice(format!("{verb} {name}…"), false);
        action
    }
}

/// `offset + delta`, kept within `0..len`.
fn step(offset: usize, delta: isize, len: usize) -> usize {
    offset
        .saturating_add_signed(delta)
        .min(len.saturating_sub(1))
}
