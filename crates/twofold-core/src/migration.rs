//! migration (in progress)
