//! The view model: the review recomputed from the probes' outcomes and the
//! log when something it depends on changed, the rows the filters leave,
//! the cluster link, and the cursor kept on screen.

use super::*;

impl App {
    /// Recomputes what the screen shows if anything it depends on changed,
    /// and keeps the cursors inside it. Call after a batch of `update`s.
    pub fn prepare(&mut self) {
        if self.stale {
            self.stale = false;
            self.dirty = true;
            self.recompute();
        }
        self.clamp();
    }

    pub(super) fn recompute(&mut self) {
        let Some(checklist) = self.current_checklist().cloned() else {
            return;
        };
        let env = self.env_tab().name.clone();
        let empty_state = crate::ledger::LogState::default();
        let empty_outcomes = HashMap::new();
        // An altered log's decisions do not count, as in `check`.
        let state = self
            .live
            .reviews
            .get(&checklist.id)
            .filter(|d| d.snapshot.log.problems.is_empty())
            .map_or(&empty_state, |d| &d.snapshot.log.state);
        let outcomes = self
            .live
            .outcomes
            .get(&checklist.id)
            .unwrap_or(&empty_outcomes);
        let mut report =
            report::checklist_report(&checklist, &env, state, outcomes, &self.roles, self.now);
        report.upstream = self.upstream(&checklist);
        if self.ui.sort == Sort::Auto && self.ui.auto_sort.is_none() && self.settled(&report) {
            let order = Sort::auto_for(report.decision);
            self.ui.auto_sort = Some(order);
            if order == Sort::Status {
                // The rows just became problems first: start at the worst.
                self.ui.selected = None;
                self.ui.cursor = 0;
            }
        }
        let rows = self.rows(&report);
        let link = self.link();
        self.view = ViewModel { report, rows, link };
    }

    /// What the environment the current one is promoted from says of
    /// `checklist`: not signed until its log is read, and nothing counted
    /// from an altered one.
    fn upstream(&self, checklist: &Checklist) -> Option<crate::review::roles::Upstream> {
        let from = self.env_tab().promote_from.as_deref()?;
        let empty = crate::ledger::LogState::default();
        let state = match self.live.upstream.get(&checklist.id) {
            Some(snap) if snap.log.problems.is_empty() => &snap.log.state,
            _ => &empty,
        };
        Some(crate::review::roles::upstream(
            checklist,
            &self.roles,
            from,
            state,
        ))
    }

    pub(super) fn rows(&self, report: &ChecklistReport) -> Vec<(usize, usize)> {
        let needle = self.ui.filter.trim().to_lowercase();
        let mut rows = Vec::new();
        for (si, section) in report.sections.iter().enumerate() {
            if self.ui.section != 0 && self.ui.section != si + 1 {
                continue;
            }
            for (ii, item) in section.items.iter().enumerate() {
                if !self.ui.status_filter.admits(item.status) {
                    continue;
                }
                if !needle.is_empty() && !matches_filter(item, &needle) {
                    continue;
                }
                rows.push((si, ii));
            }
        }
        let item = |(s, i): &(usize, usize)| &report.sections[*s].items[*i];
        // Stable: ties keep the checklist's order.
        match self.order() {
            Sort::Auto | Sort::Checklist => {}
            Sort::Status => rows.sort_by_key(|r| (problem_rank(item(r).status), item(r).severity)),
            Sort::Severity => {
                rows.sort_by_key(|r| (item(r).severity, problem_rank(item(r).status)))
            }
            // The longest unchecked first; never checked (manual) last.
            Sort::Age => {
                rows.sort_by_key(|r| (item(r).checked_at().is_none(), item(r).checked_at()))
            }
        }
        rows
    }

    pub(super) fn link(&self) -> Link {
        if self.live.ready && !self.live.has_cluster {
            return Link::Absent;
        }
        let mut latest_error: Option<&Outcome> = None;
        let mut any = false;
        for c in &self.checklists {
            let Some(probes) = self.live.probes.get(&c.id) else {
                continue;
            };
            let Some(outcomes) = self.live.outcomes.get(&c.id) else {
                continue;
            };
            for (id, probe) in probes {
                if probe.spec.kind() != crate::checklist::ProbeKind::Kube {
                    continue;
                }
                let Some(o) = outcomes.get(id) else { continue };
                any = true;
                // An expression that cannot be judged on an object was
                // read from the cluster all the same.
                let read = o.evidence.summary.starts_with(crate::probe::kube::UNJUDGED);
                if o.verdict != Verdict::Error || read {
                    return Link::Up;
                }
                if latest_error.is_none_or(|l| l.evidence.taken_at < o.evidence.taken_at) {
                    latest_error = Some(o);
                }
            }
        }
        match (any, latest_error) {
            (true, Some(o)) => Link::Down(o.evidence.summary.clone()),
            _ => Link::Unknown,
        }
    }

    /// The order the rows are in now.
    pub fn order(&self) -> Sort {
        match self.ui.sort {
            Sort::Auto => self.ui.auto_sort.unwrap_or(Sort::Checklist),
            chosen => chosen,
        }
    }

    /// Whether the first round is in: the log read, every probe reported
    /// and none running.
    fn settled(&self, report: &ChecklistReport) -> bool {
        let logged = self
            .current_checklist()
            .and_then(|c| self.live.reviews.get(&c.id))
            .is_some_and(|d| d.loaded);
        logged
            && !self.is_busy()
            && report
                .sections
                .iter()
                .flat_map(|s| &s.items)
                .all(|i| i.kind.is_none() || i.outcome.is_some() || i.status == Status::Skipped)
    }

    /// Where things go on a screen of `size` now (toasts take rows).
    pub fn layout(&self, size: Rect) -> crate::tui::views::Areas {
        let sym = if self.ascii {
            &crate::tui::views::ASCII
        } else {
            &crate::tui::views::UNICODE
        };
        let rows: usize = self
            .toasts
            .iter()
            .map(|t| crate::tui::views::toast_lines(t, size.width, sym).len())
            .sum();
        let longest = self
            .view
            .report
            .sections
            .iter()
            .map(|s| crate::tui::views::width(&s.title))
            .max()
            .unwrap_or(0)
            .max("All sections".len());
        crate::tui::views::layout_for(size, self.view.report.sections.len(), longest, rows)
    }

    /// Keeps cursors and scroll offsets in range and the selection on the
    /// same item when rows move.
    pub(super) fn clamp(&mut self) {
        let rows = &self.view.rows;
        if let Some(id) = &self.ui.selected
            && let Some(pos) = rows
                .iter()
                .position(|(s, i)| self.view.report.sections[*s].items[*i].id == *id)
        {
            self.ui.cursor = pos;
        }
        self.ui.cursor = self.ui.cursor.min(rows.len().saturating_sub(1));
        self.ui.selected = rows
            .get(self.ui.cursor)
            .map(|(s, i)| self.view.report.sections[*s].items[*i].id.clone());
        let sections = self.view.report.sections.len() + 1;
        self.ui.section = self.ui.section.min(sections - 1);
        let areas = self.layout(Rect::new(0, 0, self.ui.size.0, self.ui.size.1));
        let height = areas.items_rows().max(1);
        self.ui.offset = scroll_into_view(self.ui.offset, self.ui.cursor, height, rows.len());
        let sheight = areas.section_rows().max(1);
        self.ui.section_offset =
            scroll_into_view(self.ui.section_offset, self.ui.section, sheight, sections);
        let path_len = self.view.report.critical_path.len();
        let objects = self.live.objects.as_ref().map_or(0, |r| r.objects().len());
        for screen in &mut self.ui.stack {
            match screen {
                Screen::Path { cursor } => *cursor = (*cursor).min(path_len.saturating_sub(1)),
                Screen::Objects { cursor, .. } => {
                    *cursor = (*cursor).min(objects.saturating_sub(1))
                }
                _ => {}
            }
        }
    }
}

pub(super) fn empty_view(checklist: Option<&Checklist>) -> ViewModel {
    let report = match checklist {
        Some(c) => report::checklist_report(
            c,
            "",
            &crate::ledger::LogState::default(),
            &HashMap::new(),
            &Default::default(),
            jiff::Timestamp::UNIX_EPOCH,
        ),
        None => ChecklistReport {
            id: String::new(),
            title: "no checklist loaded".into(),
            version: String::new(),
            decision: Decision::Go,
            signatures: crate::review::roles::Signatures::none(Decision::Go),
            upstream: None,
            sections: Vec::new(),
            critical_path: Vec::new(),
            counts: Default::default(),
        },
    };
    ViewModel {
        report,
        rows: Vec::new(),
        link: Link::Unknown,
    }
}

pub(super) fn matches_filter(item: &ItemReport, needle: &str) -> bool {
    [
        item.id.as_str(),
        item.title.as_str(),
        item.summary.as_str(),
        item.kind_name(),
        item.severity.as_str(),
        item.status.as_str(),
    ]
    .iter()
    .any(|field| field.to_lowercase().contains(needle))
}

pub(super) fn scroll_into_view(offset: usize, cursor: usize, height: usize, len: usize) -> usize {
    let mut offset = offset.min(len.saturating_sub(height));
    if cursor < offset {
        offset = cursor;
    } else if cursor >= offset + height {
        offset = cursor + 1 - height;
    }
    offset
}

/// Problems first: failing, could not run, waiting, then what is settled.
fn problem_rank(status: Status) -> u8 {
    match status {
        Status::Fail => 0,
        Status::Error => 1,
        Status::Pending => 2,
        Status::Waived => 3,
        Status::Done | Status::Pass => 4,
        Status::Skipped => 5,
    }
}
