//! Keyed state kept in memory: values by (state, key, namespace). A keyed operator's functions
//! see the entries of the record's key; window functions also the entries of one window.

use std::collections::HashMap;

use crate::runtime::key::{FastMap, Key, KeyMap};
use crate::window::window::Window;

/// What a state entry is scoped to besides its key: nothing (a keyed function's state) or one
/// window (`window_state()` of a window function).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Namespace {
    Global,
    Window(Window),
}

/// The kinds of keyed state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateKind {
    Value,
    List,
    Map,
    Reducing,
    Aggregating,
}

impl StateKind {
    pub fn parse(name: &str) -> Option<StateKind> {
        Some(match name {
            "value" => StateKind::Value,
            "list" => StateKind::List,
            "map" => StateKind::Map,
            "reducing" => StateKind::Reducing,
            "aggregating" => StateKind::Aggregating,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            StateKind::Value => "ValueState",
            StateKind::List => "ListState",
            StateKind::Map => "MapState",
            StateKind::Reducing => "ReducingState",
            StateKind::Aggregating => "AggregatingState",
        }
    }
}

/// The error of a state kept with a time-to-live used without one, or the other way round.
pub fn ttl_mismatch(name: &str, had_ttl: bool) -> String {
    let (was, now) = if had_ttl {
        ("with", "without")
    } else {
        ("without", "with")
    };
    format!("the state '{name}' was kept {was} a time-to-live, so it cannot be used {now} one: give it another name")
}

/// A state's number within its operator.
pub type StateId = u32;

/// A key's entries by state and namespace. Most keys have a few (one per state): a small vector
/// searched in order. Window namespaces can make many (sliding windows, window state): a map
/// from then on.
#[derive(Debug)]
enum KeyEntries<V> {
    Few(Vec<(StateId, Namespace, V)>),
    Many(FastMap<(StateId, Namespace), V>),
}

/// The most entries a key keeps in a vector.
const FEW_ENTRIES: usize = 8;

impl<V> KeyEntries<V> {
    fn get(&self, state: StateId, namespace: Namespace) -> Option<&V> {
        match self {
            KeyEntries::Few(list) => list
                .iter()
                .find(|(s, n, _)| *s == state && *n == namespace)
                .map(|(_, _, v)| v),
            KeyEntries::Many(map) => map.get(&(state, namespace)),
        }
    }

    fn get_mut(&mut self, state: StateId, namespace: Namespace) -> Option<&mut V> {
        match self {
            KeyEntries::Few(list) => list
                .iter_mut()
                .find(|(s, n, _)| *s == state && *n == namespace)
                .map(|(_, _, v)| v),
            KeyEntries::Many(map) => map.get_mut(&(state, namespace)),
        }
    }

    /// Sets the entry; returns the value it replaces.
    fn insert(&mut self, state: StateId, namespace: Namespace, value: V) -> Option<V> {
        if let Some(slot) = self.get_mut(state, namespace) {
            return Some(std::mem::replace(slot, value));
        }
        match self {
            KeyEntries::Few(list) if list.len() < FEW_ENTRIES => list.push((state, namespace, value)),
            KeyEntries::Few(list) => {
                let mut map: FastMap<(StateId, Namespace), V> = list.drain(..).map(|(s, n, v)| ((s, n), v)).collect();
                map.insert((state, namespace), value);
                *self = KeyEntries::Many(map);
            }
            KeyEntries::Many(map) => {
                map.insert((state, namespace), value);
            }
        }
        None
    }

    fn remove(&mut self, state: StateId, namespace: Namespace) -> Option<V> {
        match self {
            KeyEntries::Few(list) => {
                let at = list.iter().position(|(s, n, _)| *s == state && *n == namespace)?;
                Some(list.swap_remove(at).2)
            }
            KeyEntries::Many(map) => map.remove(&(state, namespace)),
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            KeyEntries::Few(list) => list.is_empty(),
            KeyEntries::Many(map) => map.is_empty(),
        }
    }

    fn iter(&self) -> Box<dyn Iterator<Item = (StateId, Namespace, &V)> + '_> {
        match self {
            KeyEntries::Few(list) => Box::new(list.iter().map(|(s, n, v)| (*s, *n, v))),
            KeyEntries::Many(map) => Box::new(map.iter().map(|((s, n), v)| (*s, *n, v))),
        }
    }
}

/// The states of one operator instance and their entries.
#[derive(Debug)]
pub struct KeyedState<V> {
    names: HashMap<String, (StateId, StateKind)>,
    /// States whose values carry a time-to-live stamp (known once a handle or a snapshot said).
    stamped: HashMap<StateId, bool>,
    /// Per key, its entries: a lookup needs no copy of the key.
    entries: KeyMap<KeyEntries<V>>,
    len: usize,
}

impl<V> Default for KeyedState<V> {
    fn default() -> Self {
        KeyedState {
            names: HashMap::new(),
            stamped: HashMap::new(),
            entries: KeyMap::default(),
            len: 0,
        }
    }
}

impl<V> KeyedState<V> {
    /// The id of state `name`; registering a name again with another kind is an error.
    pub fn register(&mut self, name: &str, kind: StateKind) -> Result<StateId, String> {
        if let Some((id, existing)) = self.names.get(name) {
            if *existing != kind {
                return Err(format!(
                    "the state '{name}' is already a {}, so it cannot also be a {}: give it another name",
                    existing.name(),
                    kind.name()
                ));
            }
            return Ok(*id);
        }
        let id = self.names.len() as StateId;
        self.names.insert(name.to_string(), (id, kind));
        Ok(id)
    }

    /// Records whether state `id`'s values are stamped with a time-to-live; a state keeps what
    /// it was first (values of one kind of stamping cannot be read as the other).
    pub fn set_stamped(&mut self, id: StateId, stamped: bool) -> Result<(), String> {
        match self.stamped.get(&id) {
            Some(&was) if was != stamped => {
                let name = self
                    .names
                    .iter()
                    .find(|(_, (i, _))| *i == id)
                    .map_or("?", |(n, _)| n.as_str());
                Err(ttl_mismatch(name, was))
            }
            _ => {
                self.stamped.insert(id, stamped);
                Ok(())
            }
        }
    }

    pub fn is_stamped(&self, id: StateId) -> bool {
        self.stamped.get(&id).copied().unwrap_or(false)
    }

    pub fn get(&self, state: StateId, key: &Key, namespace: Namespace) -> Option<&V> {
        self.entries.get(key)?.get(state, namespace)
    }

    pub fn get_mut(&mut self, state: StateId, key: &Key, namespace: Namespace) -> Option<&mut V> {
        self.entries.get_mut(key)?.get_mut(state, namespace)
    }

    /// Sets the entry; returns the value it replaces.
    pub fn put(&mut self, state: StateId, key: &Key, namespace: Namespace, value: V) -> Option<V> {
        let replaced = match self.entries.get_mut(key) {
            Some(entries) => entries.insert(state, namespace, value),
            None => {
                self.entries
                    .insert(key.clone(), KeyEntries::Few(vec![(state, namespace, value)]));
                None
            }
        };
        if replaced.is_none() {
            self.len += 1;
        }
        replaced
    }

    pub fn remove(&mut self, state: StateId, key: &Key, namespace: Namespace) -> Option<V> {
        let entries = self.entries.get_mut(key)?;
        let value = entries.remove(state, namespace)?;
        if entries.is_empty() {
            self.entries.remove(key);
        }
        self.len -= 1;
        Some(value)
    }

    /// The id of state `name`, if it is registered.
    pub fn id_of(&self, name: &str) -> Option<StateId> {
        self.names.get(name).map(|(id, _)| *id)
    }

    /// The registered states: name, id, kind.
    pub fn states(&self) -> impl Iterator<Item = (&str, StateId, StateKind)> {
        self.names.iter().map(|(name, (id, kind))| (name.as_str(), *id, *kind))
    }

    /// Every entry as (state, key, namespace, value), in no particular order.
    pub fn entries(&self) -> impl Iterator<Item = (StateId, &Key, Namespace, &V)> {
        self.entries
            .iter()
            .flat_map(|(key, entries)| entries.iter().map(move |(s, n, v)| (s, key, n, v)))
    }

    /// Entries held, over all states, keys and namespaces.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_scoped_by_state_key_and_namespace() {
        let mut s: KeyedState<i64> = KeyedState::default();
        let a = s.register("a", StateKind::Value).unwrap();
        let b = s.register("b", StateKind::Value).unwrap();
        let w = Namespace::Window(Window::Time { start: 0, end: 5 });
        s.put(a, &Key::Int(1), Namespace::Global, 10);
        s.put(a, &Key::Int(2), Namespace::Global, 20);
        s.put(b, &Key::Int(1), Namespace::Global, 30);
        s.put(a, &Key::Int(1), w, 40);
        assert_eq!(s.get(a, &Key::Int(1), Namespace::Global), Some(&10));
        assert_eq!(s.get(a, &Key::Int(2), Namespace::Global), Some(&20));
        assert_eq!(s.get(b, &Key::Int(1), Namespace::Global), Some(&30));
        assert_eq!(s.get(a, &Key::Int(1), w), Some(&40));
        assert_eq!(s.remove(a, &Key::Int(1), Namespace::Global), Some(10));
        assert_eq!(s.get(a, &Key::Int(1), Namespace::Global), None);
        assert_eq!(s.len(), 3);
    }

    #[test]
    fn a_key_with_many_windows_keeps_every_entry() {
        let mut s: KeyedState<i64> = KeyedState::default();
        let a = s.register("a", StateKind::Value).unwrap();
        let b = s.register("b", StateKind::Value).unwrap();
        let k = Key::Str("k".into());
        let window = |i: i64| Namespace::Window(Window::Time { start: i, end: i + 10 });
        for i in 0..100 {
            assert_eq!(s.put(a, &k, window(i), i), None);
            assert_eq!(s.put(b, &k, window(i), -i), None);
        }
        assert_eq!(s.put(a, &k, window(7), 70), Some(7));
        assert_eq!(s.len(), 200);
        assert_eq!(s.get(a, &k, window(7)), Some(&70));
        assert_eq!(s.get(b, &k, window(99)), Some(&-99));
        assert_eq!(s.entries().count(), 200);
        for i in 0..100 {
            assert!(s.remove(a, &k, window(i)).is_some());
            assert!(s.remove(b, &k, window(i)).is_some());
        }
        assert!(s.is_empty());
        assert_eq!(s.get(a, &k, window(7)), None);
    }

    #[test]
    fn one_name_one_kind() {
        let mut s: KeyedState<i64> = KeyedState::default();
        let id = s.register("seen", StateKind::Value).unwrap();
        assert_eq!(s.register("seen", StateKind::Value), Ok(id));
        let err = s.register("seen", StateKind::List).unwrap_err();
        assert!(err.contains("already a ValueState"), "{err}");
    }
}
