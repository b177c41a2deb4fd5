"""The merchandiser's theme library: curated grocery themes, and which of them suit a shopper.

Each theme ("Easy Pasta Night") names a shopper-facing title, what it holds, the real aisles it draws from,
lexical queries that hit real product names, tags, and any claim every product under it must make
("Organic Essentials"). Given a `Shopper` and what the page `Asks` for, for_shopper.py ranks the themes of a
page plan; theme_rows.py, neighbourhood.py, regulars_plan.py, catalog_themes.py and bank_title.py hold the
rest of that knowledge. It is the program's own knowledge, not the stand-in's: the offline engine
(`themepage.offline`) reads a prompt into a `Shopper` and `Asks` and answers through the library, and through
the teacher optimizer (pages written by the offline engine as demos) the library reaches the prompts real LMs
are compiled with.
"""
