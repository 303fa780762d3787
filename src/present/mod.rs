//! What update and the views share about presenting the registry: the order of cells and what a
//! typed filter keeps. Below both, so neither imports the other.

pub mod cells;
pub mod changes;
pub mod filter;
pub mod order;
