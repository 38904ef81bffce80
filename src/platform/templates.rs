//! Handlebars templates: the defaults are embedded in the binary (read from disk in
//! debug builds), and any city may override any of them with a file of the same name
//! under `themes/<slug>/templates/`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use handlebars::{DirectorySourceOptions, Handlebars};
use rust_embed::RustEmbed;
use serde::Serialize;

use super::error::{AppError, AppResult};

#[derive(RustEmbed)]
#[folder = "templates/"]
#[include = "*.hbs"]
struct Embedded;

#[derive(Clone)]
pub struct Templates {
    base: Arc<Handlebars<'static>>,
    /// Per-city registries (the base plus the city's overrides), rebuilt after a minute
    /// so an operator's new override shows without a restart.
    per_city: moka::sync::Cache<String, Arc<Handlebars<'static>>>,
    themes_dir: PathBuf,
}

impl Templates {
    /// `helpers` registers the application's formatting helpers (dates, money...).
    pub fn new(
        themes_dir: PathBuf,
        helpers: fn(&mut Handlebars<'static>),
    ) -> anyhow::Result<Templates> {
        let mut base = Handlebars::new();
        base.set_strict_mode(false);
        helpers(&mut base);
        base.register_embed_templates_with_extension::<Embedded>(".hbs")?;
        Ok(Templates {
            base: Arc::new(base),
            per_city: moka::sync::Cache::builder()
                .max_capacity(1_000)
                .time_to_live(Duration::from_secs(60))
                .build(),
            themes_dir,
        })
    }

    /// Renders `name` ("portal/home") with the city's overrides when it has some.
    pub fn render<T: Serialize>(
        &self,
        city: Option<&str>,
        name: &str,
        data: &T,
    ) -> AppResult<String> {
        let registry = match city {
            Some(slug) => self.for_city(slug)?,
            None => self.base.clone(),
        };
        registry
            .render(name, data)
            .map_err(|e| AppError::internal(anyhow::anyhow!("gabarit {name} : {e}")))
    }

    fn for_city(&self, slug: &str) -> AppResult<Arc<Handlebars<'static>>> {
        if let Some(registry) = self.per_city.get(slug) {
            return Ok(registry);
        }
        let overrides = self.themes_dir.join(slug).join("templates");
        let registry = if overrides.is_dir() {
            let mut registry = (*self.base).clone();
            registry
                .register_templates_directory(&overrides, DirectorySourceOptions::default())
                .map_err(|e| {
                    AppError::internal(anyhow::anyhow!("gabarits de {} : {e}", overrides.display()))
                })?;
            Arc::new(registry)
        } else {
            self.base.clone()
        };
        self.per_city.insert(slug.to_string(), registry.clone());
        Ok(registry)
    }
}
