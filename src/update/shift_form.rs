//! `:shift` with no arguments: a form with the steps, the hold and the gates, prefilled with
//! the defaults; every keystroke recomputes the plan, so the weights of each step (or why
//! there are none) are in front of the user before enter starts it.

use super::shift::{Asked, described, plan_for, run_of, warnings};
use crate::action::Action;
use crate::msg::Cmd;
use crate::state::edits::{SHIFT_FIELDS, ShiftForm};
use crate::state::{Level, State};
use ratatui::crossterm::event::KeyEvent;
use ratatui_textarea::TextArea;

fn area(text: &str) -> TextArea<'static> {
    let mut t = TextArea::new(vec![text.to_string()]);
    t.move_cursor(ratatui_textarea::CursorMove::End);
    t
}

/// Opens the form, unless a shift cannot start here at all (then it is said, as `:shift`
/// with arguments would).
pub fn open(state: &mut State) -> Vec<Cmd> {
    let d = Asked::default();
    // Defaults that give no plan here (a share already above the first step) open the form
    // anyway, saying why: only a place where no shift can start refuses it.
    if let Err(why) = super::shift::where_to(state) {
        state.ui.status = Some((Level::Error, why));
        return Vec::new();
    }
    let mut form = ShiftForm {
        inputs: [d.steps, d.hold, d.max_5xx, d.max_p99]
            .into_iter()
            .map(area)
            .collect(),
        focus: 0,
        preview: Ok(Vec::new()),
        warnings: Vec::new(),
    };
    refresh(state, &mut form);
    state.edits.shift_form = Some(form);
    Vec::new()
}

fn asked(form: &ShiftForm) -> [String; 4] {
    [0, 1, 2, 3].map(|i| form.text(i))
}

fn refresh(state: &State, form: &mut ShiftForm) {
    let [steps, hold, max_5xx, max_p99] = asked(form);
    let plan = plan_for(
        state,
        Asked {
            steps: &steps,
            hold: &hold,
            max_5xx: &max_5xx,
            max_p99: &max_p99,
        },
    );
    form.warnings = plan.as_ref().map(warnings).unwrap_or_default();
    form.preview = plan.map(|p| described(&p));
}

/// A bound key of the form: fields, enter starts the shift, esc leaves nothing written.
pub fn on_action(state: &mut State, action: Action) -> Vec<Cmd> {
    let Some(mut form) = state.edits.shift_form.take() else {
        return Vec::new();
    };
    let n = SHIFT_FIELDS.len();
    match action {
        Action::FormNextField => form.focus = (form.focus + 1) % n,
        Action::FormPrevField => form.focus = (form.focus + n - 1) % n,
        Action::FormCancel => {
            state.ui.status = Some((Level::Info, "shift cancelled; nothing was written".into()));
            return Vec::new();
        }
        Action::FormSubmit => {
            let [steps, hold, max_5xx, max_p99] = asked(&form);
            let asked = Asked {
                steps: &steps,
                hold: &hold,
                max_5xx: &max_5xx,
                max_p99: &max_p99,
            };
            match plan_for(state, asked) {
                Ok(plan) => return super::shift::confirmed(state, run_of(plan)),
                // Kept open with what is wrong: nothing typed is lost.
                Err(why) => form.preview = Err(why),
            }
        }
        _ => {}
    }
    state.edits.shift_form = Some(form);
    Vec::new()
}

/// A key no binding takes is typed into the field that has focus.
pub fn on_input(state: &mut State, ev: KeyEvent) -> Vec<Cmd> {
    let Some(mut form) = state.edits.shift_form.take() else {
        return Vec::new();
    };
    if let Some(t) = form.inputs.get_mut(form.focus) {
        t.input(ev);
    }
    refresh(state, &mut form);
    state.edits.shift_form = Some(form);
    Vec::new()
}

pub fn on_paste(state: &mut State, text: &str) -> Vec<Cmd> {
    let Some(mut form) = state.edits.shift_form.take() else {
        return Vec::new();
    };
    if let Some(t) = form.inputs.get_mut(form.focus) {
        t.insert_str(text.lines().next().unwrap_or_default());
    }
    refresh(state, &mut form);
    state.edits.shift_form = Some(form);
    Vec::new()
}
