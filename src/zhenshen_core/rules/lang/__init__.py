"""The expression language: grammar, parser, AST, type checker, reference semantics, regexes and
decision-table cells.

Nothing here knows about pack files or engines; ``pack`` checks expressions with it and the
engines compile or translate its AST. Import the modules themselves (this package re-exports
nothing, so importing one module does not load the rest).
"""
