//! Building blocks shared by the pages.

pub mod forms;
pub mod layout;
pub mod pager;
pub mod time;
