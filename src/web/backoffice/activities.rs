//! (being written)

use crate::web::guard::Routes;

pub fn routes(_routes: &mut Routes) {}
