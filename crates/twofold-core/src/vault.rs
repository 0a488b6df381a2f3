//! vault (in progress)
