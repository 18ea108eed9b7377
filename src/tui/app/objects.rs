//! Drilling into a kube item, k9s-style: the objects its probe selects, as
//! the environment's cluster source has them now (asked for with
//! `Effect::ReadObjects`, answered by `Action::Objects`), and one of them
//! as YAML. The YAML is written once as the object opens, a Secret's values
//! replaced first, so nothing drawn or copied from here can show them.

use super::*;
use crate::checklist::ProbeKind;
use crate::checklist::model::{KubeProbe, ProbeSpec};

impl App {
    /// `O`, or Enter in a kube item's detail: the item's objects.
    pub(super) fn open_objects(&mut self, fx: &mut Vec<Effect>) {
        let Some(report) = self.target() else { return };
        let (id, kind, status) = (report.id.clone(), report.kind, report.status);
        match kind {
            Some(ProbeKind::Kube) => {}
            Some(ProbeKind::Http) => {
                return self
                    .info("only kube items have objects: the detail shows the last response");
            }
            Some(ProbeKind::Tls) => {
                return self
                    .info("only kube items have objects: the detail shows the certificate chain");
            }
            _ => return self.info("only kube items have objects"),
        }
        if status == Status::Skipped {
            let env = self.env_tab().name.clone();
            return self.info(format!(
                "{id} is not checked in {env}: it has no objects here"
            ));
        }
        let Some(checklist) = self.current_checklist().map(|c| c.id.clone()) else {
            return;
        };
        if !matches!(self.ui.stack.last(), Some(Screen::Objects { item, .. }) if *item == id) {
            self.ui.stack.push(Screen::Objects {
                item: id.clone(),
                cursor: 0,
            });
        }
        self.live.objects = Some(ObjectsRead {
            checklist: checklist.clone(),
            item: id.clone(),
            listing: Listing::Reading,
        });
        fx.push(Effect::ReadObjects {
            generation: self.generation,
            checklist,
            item: id,
        });
    }

    /// The answer to `ReadObjects`, kept if it is still the one asked for.
    pub(super) fn objects_read(
        &mut self,
        checklist: &str,
        item: &str,
        listing: Result<Vec<Examined>, String>,
    ) {
        let Some(read) = self
            .live
            .objects
            .as_mut()
            .filter(|r| r.checklist == checklist && r.item == item)
        else {
            return;
        };
        read.listing = match listing {
            Ok(all) => Listing::Listed(Arc::new(all)),
            Err(why) => Listing::Failed(why),
        };
        self.dirty = true;
        self.clamp();
    }

    /// Enter on the objects screen: the object under the cursor as YAML.
    pub(super) fn open_object(&mut self) {
        let Some(Screen::Objects { item, cursor }) = self.ui.stack.last() else {
            return;
        };
        let (item, cursor) = (item.clone(), *cursor);
        let Some(examined) = self
            .live
            .objects
            .as_ref()
            .and_then(|r| r.objects().get(cursor))
            .cloned()
        else {
            return;
        };
        let probe = self.kube_probe(&item);
        let lines = crate::probe::drill::show(probe, &examined.object, examined.in_line);
        let kind = match probe {
            Some(p) => p.resource.to_string(),
            None => examined
                .object
                .json()
                .get("kind")
                .and_then(|k| k.as_str())
                .map(|k| crate::text::sanitize(k, false))
                .unwrap_or_default(),
        };
        self.live.object = Some(OpenObject {
            item: item.clone(),
            id: examined.id(),
            kind,
            in_line: examined.in_line,
            reason: examined.reason.clone(),
            lines: Arc::new(lines),
        });
        self.ui.stack.push(Screen::Object {
            item,
            name: examined.object.name().unwrap_or_default().to_string(),
            namespace: examined.object.namespace().map(str::to_string),
            scroll: 0,
        });
    }

    /// The probe of `item` in the current checklist, when it is a kube one.
    pub fn kube_probe(&self, item: &str) -> Option<&KubeProbe> {
        let c = self.current_checklist()?;
        match &self.live.probes.get(&c.id)?.get(item)?.spec {
            ProbeSpec::Kube(k) => Some(k),
            _ => None,
        }
    }

    /// The object under the cursor of the objects screen on top.
    pub fn object_under_cursor(&self) -> Option<&Examined> {
        let Some(Screen::Objects { cursor, .. }) = self.ui.stack.last() else {
            return None;
        };
        self.live.objects.as_ref()?.objects().get(*cursor)
    }

    /// `y` and `Y` on the objects screens: the object's name, or what is
    /// known of it (its reason; open, its YAML as shown, values redacted).
    pub(super) fn copy_object(&mut self, whole: bool, fx: &mut Vec<Effect>) {
        let text = match self.ui.stack.last() {
            Some(Screen::Object { .. }) => {
                let Some(open) = &self.live.object else {
                    return;
                };
                if whole {
                    open.lines.iter().map(|l| format!("{}\n", l.text)).collect()
                } else {
                    open.id.clone()
                }
            }
            Some(Screen::Objects { .. }) => {
                let Some(examined) = self.object_under_cursor() else {
                    return;
                };
                match (whole, &examined.reason) {
                    (false, _) => examined.id(),
                    (true, _) if examined.in_line => format!("{}: in line", examined.id()),
                    (true, Some(reason)) => format!("{}: {reason}", examined.id()),
                    (true, None) => format!("{}: out of line", examined.id()),
                }
            }
            _ => return,
        };
        self.copy(text, fx);
    }
}
