//! The fast path of the window operator for the most common case: time windows that do not
//! merge (tumbling, sliding) with the event-time trigger. Their contents are grouped by window,
//! then by key, and the watermark fires a whole window at once, so no timer is kept per key and
//! window, and the state a record touches is one map entry.

use std::collections::BTreeMap;

use crate::runtime::key::{FastMap, Key};
use crate::window::window::Window;

/// The keys' contents of one window.
pub struct Group<A> {
    /// The watermark passed the window's end and it fired; records within the allowed lateness
    /// fire it again, one key at a time.
    pub fired: bool,
    pub keys: FastMap<Key, A>,
}

/// Open windows in end order, each with its keys' contents.
pub struct WindowGroups<A> {
    groups: BTreeMap<Window, Group<A>>,
}

impl<A> Default for WindowGroups<A> {
    fn default() -> Self {
        WindowGroups {
            groups: BTreeMap::new(),
        }
    }
}

impl<A> WindowGroups<A> {
    /// The contents of `key` in `window`, if any.
    pub fn get(&self, key: &Key, window: &Window) -> Option<&A> {
        self.groups.get(window).and_then(|g| g.keys.get(key))
    }

    /// The slot of `key` in `window`: the contents to add to, or None to create. Returns also
    /// whether the window already fired.
    pub fn slot(&mut self, key: &Key, window: Window) -> (&mut Group<A>, bool) {
        let group = self.groups.entry(window).or_insert_with(|| Group {
            fired: false,
            keys: FastMap::default(),
        });
        let exists = group.keys.contains_key(key);
        (group, exists)
    }

    /// The earliest window, if its max timestamp is at most `watermark`.
    pub fn first_due(&mut self, watermark: i64) -> Option<(Window, &mut Group<A>)> {
        let (window, group) = self.groups.iter_mut().next()?;
        (window.max_timestamp() <= watermark).then_some((*window, group))
    }

    /// The windows whose max timestamp is at most `watermark`, in end order.
    pub fn due(&self, watermark: i64) -> Vec<Window> {
        self.groups
            .keys()
            .take_while(|w| w.max_timestamp() <= watermark)
            .copied()
            .collect()
    }

    pub fn group_mut(&mut self, window: &Window) -> Option<&mut Group<A>> {
        self.groups.get_mut(window)
    }

    pub fn remove(&mut self, window: &Window) -> Option<Group<A>> {
        self.groups.remove(window)
    }

    /// Every window with its keys' contents, in end order (for a snapshot).
    pub fn iter(&self) -> impl Iterator<Item = (&Window, &Group<A>)> {
        self.groups.iter()
    }

    /// Puts back the contents of `key` in `window` (a restore); `fired`: the window already fired.
    pub fn insert(&mut self, key: Key, window: Window, fired: bool, acc: A) {
        let group = self.groups.entry(window).or_insert_with(|| Group {
            fired: false,
            keys: FastMap::default(),
        });
        group.fired |= fired;
        group.keys.insert(key, acc);
    }

    /// Windows and keys held.
    pub fn len(&self) -> (usize, usize) {
        (self.groups.len(), self.groups.values().map(|g| g.keys.len()).sum())
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    pub fn clear(&mut self) {
        self.groups.clear();
    }
}
