//! Keyed state kept in memory: values by (state, key, namespace). A keyed operator's functions
//! see the entries of the record's key; window functions also the entries of one window.

use std::collections::HashMap;

use crate::runtime::key::{Key, KeyMap};
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

/// A state's number within its operator.
pub type StateId = u32;

/// The states of one operator instance and their entries.
#[derive(Debug)]
pub struct KeyedState<V> {
    names: HashMap<String, (StateId, StateKind)>,
    /// Per key, its entries by state and namespace: few per key, so a small vector searched in
    /// order, and a lookup needs no copy of the key.
    entries: KeyMap<Vec<(StateId, Namespace, V)>>,
    len: usize,
}

impl<V> Default for KeyedState<V> {
    fn default() -> Self {
        KeyedState {
            names: HashMap::new(),
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

    pub fn get(&self, state: StateId, key: &Key, namespace: Namespace) -> Option<&V> {
        self.entries
            .get(key)?
            .iter()
            .find(|(s, n, _)| *s == state && *n == namespace)
            .map(|(_, _, v)| v)
    }

    pub fn get_mut(&mut self, state: StateId, key: &Key, namespace: Namespace) -> Option<&mut V> {
        self.entries
            .get_mut(key)?
            .iter_mut()
            .find(|(s, n, _)| *s == state && *n == namespace)
            .map(|(_, _, v)| v)
    }

    /// Sets the entry; returns the value it replaces.
    pub fn put(&mut self, state: StateId, key: &Key, namespace: Namespace, value: V) -> Option<V> {
        match self.entries.get_mut(key) {
            Some(list) => match list.iter_mut().find(|(s, n, _)| *s == state && *n == namespace) {
                Some(entry) => return Some(std::mem::replace(&mut entry.2, value)),
                None => list.push((state, namespace, value)),
            },
            None => {
                self.entries.insert(key.clone(), vec![(state, namespace, value)]);
            }
        }
        self.len += 1;
        None
    }

    pub fn remove(&mut self, state: StateId, key: &Key, namespace: Namespace) -> Option<V> {
        let list = self.entries.get_mut(key)?;
        let at = list.iter().position(|(s, n, _)| *s == state && *n == namespace)?;
        let (_, _, value) = list.swap_remove(at);
        if list.is_empty() {
            self.entries.remove(key);
        }
        self.len -= 1;
        Some(value)
    }

    /// The registered states: name, id, kind.
    pub fn states(&self) -> impl Iterator<Item = (&str, StateId, StateKind)> {
        self.names.iter().map(|(name, (id, kind))| (name.as_str(), *id, *kind))
    }

    /// Every entry as (state, key, namespace, value), in no particular order.
    pub fn entries(&self) -> impl Iterator<Item = (StateId, &Key, Namespace, &V)> {
        self.entries
            .iter()
            .flat_map(|(key, list)| list.iter().map(move |(s, n, v)| (*s, key, *n, v)))
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
    fn one_name_one_kind() {
        let mut s: KeyedState<i64> = KeyedState::default();
        let id = s.register("seen", StateKind::Value).unwrap();
        assert_eq!(s.register("seen", StateKind::Value), Ok(id));
        let err = s.register("seen", StateKind::List).unwrap_err();
        assert!(err.contains("already a ValueState"), "{err}");
    }
}
