"""Pure news logic: article identity (dedup), the scorer's prompts, the news catalyst rule."""
