//! What arrives from outside the keyboard: the clock, probe results, the
//! sign-off log as read or written, and the toasts that report them.

use super::*;
use crate::ledger::Health;

impl App {
    pub(super) fn clock(&mut self, now: jiff::Timestamp) {
        let before = self.now;
        self.now = now;
        let day = |t: jiff::Timestamp| t.to_zoned(jiff::tz::TimeZone::UTC).date();
        if day(before) != day(now) {
            // Waivers lapse at the end of their day.
            self.stale = true;
        }
        let toasts = self.toasts.len();
        self.toasts.retain(|t| t.until.is_none_or(|u| u > now));
        if self.toasts.len() != toasts {
            self.dirty = true;
            // The list has its rows back.
            self.clamp();
        }
        if self.ages_changed(before, now) {
            self.dirty = true;
        }
    }

    /// Whether any age label on screen reads differently at `now`.
    pub(super) fn ages_changed(&self, before: jiff::Timestamp, now: jiff::Timestamp) -> bool {
        let Some(c) = self.current_checklist() else {
            return false;
        };
        let Some(outcomes) = self.live.outcomes.get(&c.id) else {
            return false;
        };
        outcomes.values().any(|o| {
            age_bucket(before, o.evidence.taken_at) != age_bucket(now, o.evidence.taken_at)
        })
    }

    pub(super) fn probe_event(&mut self, event: RunnerEvent) {
        match event {
            RunnerEvent::Started(key) => {
                self.live.running.insert(key);
                self.dirty = true;
            }
            RunnerEvent::Finished(key, outcome) => {
                self.live.running.remove(&key);
                let history = self.live.history.entry(key.clone()).or_default();
                record(history, &outcome);
                self.live
                    .outcomes
                    .entry(key.checklist.to_string())
                    .or_default()
                    .insert(key.item.to_string(), outcome);
                self.stale = true;
            }
        }
    }

    pub(super) fn review(
        &mut self,
        checklist: String,
        snapshot: LogSnapshot,
        done: Option<String>,
    ) {
        for news in &snapshot.news {
            self.info(news.clone());
        }
        let newly_tampered = snapshot.log.problems.first().filter(|_| {
            self.live
                .reviews
                .get(&checklist)
                .is_none_or(|d| d.snapshot.log.problems.is_empty())
        });
        if let Some(problem) = newly_tampered {
            self.error(format!(
                "the sign-off log of {checklist} has been altered: {problem}"
            ));
        }
        let was = self
            .live
            .reviews
            .get(&checklist)
            .map(|d| d.snapshot.store.clone());
        match (&snapshot.store, was) {
            (Health::Unreachable(reason), was) if !matches!(was, Some(Health::Unreachable(_))) => {
                self.error(format!(
                    "the sign-off log of {checklist} cannot be reached: {reason}; \
                     nothing can be recorded until it answers"
                ));
            }
            (Health::Ok, Some(Health::Unreachable(_))) => {
                self.toasts.retain(|t| {
                    !t.text.starts_with(&format!(
                        "the sign-off log of {checklist} cannot be reached"
                    ))
                });
                self.info(format!("the sign-off log of {checklist} answers again"));
            }
            _ => {}
        }
        self.live.reviews.insert(
            checklist,
            LogStatus {
                snapshot,
                loaded: true,
                error: None,
            },
        );
        if let Some(done) = done {
            self.toasts.retain(|t| !t.refusal);
            self.info(done);
        }
        self.stale = true;
    }

    pub fn info(&mut self, text: impl Into<String>) {
        let until = self
            .now
            .checked_add(jiff::SignedDuration::from_secs(TOAST_SECONDS))
            .ok();
        self.push_toast(Level::Info, text.into(), until);
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.push_toast(Level::Error, text.into(), None);
    }

    /// A change that was refused or could not be written.
    pub fn refused(&mut self, text: impl Into<String>) {
        self.push_toast(Level::Error, text.into(), None);
        if let Some(last) = self.toasts.last_mut() {
            last.refusal = true;
        }
    }

    pub(super) fn push_toast(
        &mut self,
        level: Level,
        text: String,
        until: Option<jiff::Timestamp>,
    ) {
        let text = crate::text::sanitize(&text, false);
        self.toasts.retain(|t| t.text != text);
        self.toasts.push(Toast {
            level,
            text,
            refusal: false,
            until,
        });
        // A burst of news must not take the screen.
        while self.toasts.len() > 3 {
            let oldest_info = self.toasts.iter().position(|t| t.level == Level::Info);
            self.toasts.remove(oldest_info.unwrap_or(0));
        }
        self.dirty = true;
        // The toasts take rows from the list: keep the cursor in view.
        self.clamp();
    }
}

pub(super) fn record(history: &mut VecDeque<HistoryEntry>, outcome: &Outcome) {
    let at = outcome.evidence.taken_at;
    if let Some(last) = history.front_mut()
        && last.verdict == outcome.verdict
        && last.summary == outcome.evidence.summary
    {
        last.last = at;
        last.runs += 1;
        return;
    }
    history.push_front(HistoryEntry {
        verdict: outcome.verdict,
        summary: outcome.evidence.summary.clone(),
        first: at,
        last: at,
        runs: 1,
    });
    history.truncate(HISTORY_LEN);
}
