//! Which period's sequence a rotator door of knockd.conf holds: what
//! `status` reports, as text and as `--json`'s `"holds"`.

use super::rotation::{DoorPlan, Plan};

/// Which period's sequence a door holds.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Held {
    Current,
    Previous,
    Next,
    Other,
    /// This period's sequence draws port 65536: the door keeps an older one.
    Refused,
}

impl Held {
    pub fn stale(self) -> bool {
        !matches!(self, Held::Current | Held::Refused)
    }

    /// The value of `"holds"` in `--json`.
    pub fn key(self) -> &'static str {
        match self {
            Held::Current => "current",
            Held::Previous => "previous",
            Held::Next => "next",
            Held::Other => "other",
            Held::Refused => "refused",
        }
    }

    pub fn text(self) -> &'static str {
        match self {
            Held::Refused => {
                "refused: this period's sequence draws port 65536 (v3's list), which no \
                 packet can carry; the door keeps an older sequence"
            }
            Held::Current => "current",
            Held::Previous => "stale: holds the previous period's sequence",
            Held::Next => "ahead: holds the next period's sequence",
            Held::Other => "stale: holds none of this, the previous or the next period's sequences",
        }
    }
}

/// `door` of this period's plan, compared with the plans of the periods
/// before and after.
pub fn held(door: &DoorPlan, previous: &Option<Plan>, next: &Option<Plan>) -> Held {
    // `changed` means the file does not hold that period's sequence.
    let holds = |plan: &Option<Plan>| {
        plan.as_ref()
            .and_then(|p| p.doors.iter().find(|d| d.name == door.name))
            .is_some_and(|d| !d.changed && d.refused.is_none())
    };
    if door.refused.is_some() {
        Held::Refused
    } else if !door.changed {
        Held::Current
    } else if holds(previous) {
        Held::Previous
    } else if holds(next) {
        Held::Next
    } else {
        Held::Other
    }
}
