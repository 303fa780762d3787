//! What must be derived again before the next frame. Every update module marks what it
//! invalidated; `update::settle` derives it once: at the end of an update caused by the user
//! (a key, a paste, a reload, an answered edit), and on the next tick after background events
//! (watch bursts, xDS pushes, Envoy polls), so that a thousand events cost one rebuild.

bitflags::bitflags! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct Dirty: u8 {
        /// The rows of the current screen (scope, filter, sort, derived endpoints).
        const ROWS = 1;
        /// The edit form's preview of shares before and after.
        const PREVIEW = 1 << 1;
    }
}
