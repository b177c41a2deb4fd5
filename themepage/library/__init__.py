"""The merchandiser's theme library: curated grocery themes the planner may draw on.

Each theme ("Easy Pasta Night") names a shopper-facing title, what it holds, the real aisles it draws from,
lexical queries that hit real product names, tags, and any claim every product under it must make
("Organic Essentials"). It is the program's own knowledge, not the stand-in's: the offline engine's
planner and namer draw on it, and through the teacher optimizer (pages written by the offline engine as
demos) it reaches the prompts real LMs are compiled with.
"""
