"""Pure metric functions over pages and labeled examples, and the objective-to-metric glue."""
