-- What the gateway fixed in a model's reply without asking the model (trailing
-- commas, a wrapper object, …): a JSON array of repair codes, shown with the version.
ALTER TABLE module_versions ADD COLUMN repairs TEXT NOT NULL DEFAULT '[]';
