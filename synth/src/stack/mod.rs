//! Our stack: every resource of the dispatch callback system, wired together.
//!
//! [`build`] is a pure function of [`Config`]; the same config always gives the same
//! template. Each component is a module with one function that adds its resources to the
//! template and returns the handles other components wire to; a new component is a new
//! module. Logical IDs are fixed in the components and never derived from anything that
//! changes.

mod alarms;
mod callback;
mod dashboard;
mod lambda;
mod outputs;
pub mod parameters;
mod queue;
mod reconciler;
mod rule;
pub mod table;

use crate::cfn::Template;
use crate::config::Config;

/// Builds the template of the whole system from `config`.
pub fn build(config: &Config) -> Template {
    let mut template = Template::new(config.description.as_str());
    let parameters = parameters::add(&mut template, config);
    let table = table::add(&mut template, config);
    let callback = callback::add(&mut template, config, &parameters, &table);
    let completion = rule::add(&mut template, config, &parameters, &callback.function);
    let reconciler = reconciler::add(&mut template, config, &parameters, &table);
    alarms::add(
        &mut template,
        config,
        &parameters,
        &callback,
        &completion,
        &reconciler,
    );
    let dashboard = dashboard::add(&mut template, config);
    outputs::add(
        &mut template,
        &table,
        &callback,
        &completion,
        &reconciler,
        &dashboard,
    );
    template
}
