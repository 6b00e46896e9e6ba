"""`sluice repl`: try Deluge a line at a time. `session` is the REPL without a terminal
(variables and functions kept between entries, `:commands`, completion); `terminal` puts it in a
prompt; `lexer` colours Deluge (also a Pygments plugin: `pygmentize -l deluge`)."""
