//! The built-in registry meshdeck opens on when given nothing else.

pub mod example;
