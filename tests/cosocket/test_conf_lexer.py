"""The nginx lexical rules of cosocket.server.conf: words, quotes, escapes, comments, include, errors with file:line."""

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from cosocket.server import conf
from cosocket.server.conf import ConfError

from tests.cosocket.confhelpers import error, load, write


def location(prefix, body, pattern="/"):
    main = load(prefix, "http { server { listen 127.0.0.1:8080; location %s { %s } } }" % (pattern, body))
    return main.http.servers[0].locations[0]


def test_double_quotes_keep_spaces_and_semicolons(tmp_path):
    loc = location(tmp_path, 'return 200 "a b; {c}";')
    assert loc.return_ == (200, "a b; {c}")


def test_single_quotes(tmp_path):
    loc = location(tmp_path, "return 200 'it''s';".replace("''", '"'))
    assert loc.return_ == (200, 'it"s')


def test_backslash_escapes_as_nginx(tmp_path):
    # \" \' \\ \t \r \n are unescaped; any other backslash stays as written
    loc = location(tmp_path, r'return 200 "q\" s\' b\\ t\t r\r n\n x\d";')
    assert loc.return_ == (200, "q\" s' b\\ t\t r\r n\n x\\d")


def test_escaped_separator_does_not_end_a_bare_word(tmp_path):
    # as in nginx: the backslash protects ";" and " " but stays in the word (only \" \' \\ \t \r \n unescape)
    loc = location(tmp_path, r"return 200 a\;b\ c;")
    assert loc.return_ == (200, r"a\;b\ c")


def test_comments_only_at_word_start(tmp_path):
    text = """# leading comment
    http { # after a brace
      server { listen 127.0.0.1:8080; # trailing
        location / { return 200 a#b; }   # '#' inside a word is text
      }
    }
    """
    main = load(tmp_path, text)
    assert main.http.servers[0].locations[0].return_ == (200, "a#b")


def test_variables_left_as_text_and_braces_after_dollar(tmp_path):
    loc = location(tmp_path, "return 302 http://$host${uri}x;")
    assert loc.return_ == (302, "http://$host${uri}x")


def test_directive_split_over_lines(tmp_path):
    main = load(tmp_path, "worker_processes\n   3\n;\n")
    assert main.worker_processes == 3


def test_unknown_directive_names_file_and_line(tmp_path):
    path = tmp_path / "conf" / "nginx.conf"
    msg = error(tmp_path, "worker_processes 1;\n\nfoo bar;\n")
    assert msg == 'unknown directive "foo" in %s:3' % path


def test_unexpected_closing_brace(tmp_path):
    msg = error(tmp_path, "events {\n}\n}\n")
    assert msg == 'unexpected "}" in %s:3' % (tmp_path / "conf" / "nginx.conf")


def test_closing_brace_after_words(tmp_path):
    assert error(tmp_path, "events { worker_connections 10 }").startswith('unexpected "}" in ')


def test_unexpected_end_of_file_in_directive(tmp_path):
    msg = error(tmp_path, "worker_processes 1;\ndaemon off\n")
    assert msg == 'unexpected end of file, expecting ";" or "}" in %s:3' % (tmp_path / "conf" / "nginx.conf")


def test_unexpected_end_of_file_in_block(tmp_path):
    msg = error(tmp_path, "events {\n worker_connections 5;\n")
    assert msg == 'unexpected end of file, expecting "}" in %s:3' % (tmp_path / "conf" / "nginx.conf")


def test_unterminated_quote(tmp_path):
    assert error(tmp_path, 'pid "logs/x.pid;\n').startswith('unexpected end of file, expecting ";" or "}" in ')


def test_word_glued_after_quote(tmp_path):
    msg = error(tmp_path, 'pid "a"b;')
    assert msg == 'unexpected "b" in %s:1' % (tmp_path / "conf" / "nginx.conf")


def test_lonely_semicolon_and_brace(tmp_path):
    assert error(tmp_path, ";").startswith('unexpected ";" in ')
    assert error(tmp_path, "{").startswith('unexpected "{" in ')


def test_missing_semicolon_before_block(tmp_path):
    assert error(tmp_path, "daemon off {}").startswith('directive "daemon" is not terminated by ";" in ')


def test_block_without_brace(tmp_path):
    assert error(tmp_path, "events;").startswith('directive "events" has no opening "{" in ')


def test_include_relative_to_conf_dir(tmp_path):
    write(tmp_path, "worker_processes 4;\n", "conf/sub/extra.conf")
    main = load(tmp_path, "include sub/extra.conf;\n")
    assert main.worker_processes == 4


def test_include_glob_in_sorted_order_inside_block(tmp_path):
    write(tmp_path, "server { listen 127.0.0.1:8001; }\n", "conf/sites/b.conf")
    write(tmp_path, "server { listen 127.0.0.1:8002; }\n", "conf/sites/a.conf")
    write(tmp_path, "not a conf", "conf/sites/readme.txt")
    main = load(tmp_path, "http {\n include sites/*.conf;\n}\n")
    assert [s.listens[0].port for s in main.http.servers] == [8002, 8001]


def test_include_glob_without_match_is_fine(tmp_path):
    main = load(tmp_path, "include none/*.conf;\nworker_processes 2;\n")
    assert main.worker_processes == 2


def test_include_missing_file(tmp_path):
    path = tmp_path / "conf" / "nginx.conf"
    msg = error(tmp_path, "\n\n\n\ninclude x.conf;\n")
    assert msg == ('open() "%s" failed (2: No such file or directory) in %s:5'
                   % (tmp_path / "conf" / "x.conf", path))


def test_error_in_included_file_names_that_file(tmp_path):
    inc = write(tmp_path, "\nbogus;\n", "conf/inc.conf")
    msg = error(tmp_path, "include inc.conf;\n")
    assert msg == 'unknown directive "bogus" in %s:2' % inc


def test_brace_closing_in_included_file_is_unexpected(tmp_path):
    inc = write(tmp_path, "}\n", "conf/inc.conf")
    assert error(tmp_path, "http { include inc.conf; }") == 'unexpected "}" in %s:1' % inc


def test_recursive_include_is_an_error_not_a_crash(tmp_path):
    msg = error(tmp_path, "include nginx.conf;\n")
    assert "too deep nesting of includes" in msg


def test_missing_main_file_has_no_location(tmp_path):
    with pytest.raises(ConfError) as info:
        conf.load("conf/nope.conf", str(tmp_path))
    assert str(info.value) == ('open() "%s" failed (2: No such file or directory)'
                               % (tmp_path / "conf" / "nope.conf"))


def test_command_line_directives(tmp_path):
    main = load(tmp_path, "worker_processes 2;\n", extra="daemon off; pid /tmp/x.pid;")
    assert main.daemon is False and main.pid == "/tmp/x.pid" and main.worker_processes == 2


def test_command_line_errors_say_in_command_line(tmp_path):
    assert error(tmp_path, "", extra="bogus;") == 'unknown directive "bogus" in command line'
    assert error(tmp_path, "", extra="daemon off") == 'unexpected end of parameter, expecting ";" in command line'
    assert error(tmp_path, "", extra="events { }") == ("block directives are not supported in -g option "
                                                       "in command line")


def test_command_line_is_read_before_the_file(tmp_path):
    msg = error(tmp_path, "\ndaemon on;\n", extra="daemon off;")
    assert msg == '"daemon" directive is duplicate in %s:2' % (tmp_path / "conf" / "nginx.conf")


def test_dump_collects_every_file_read(tmp_path):
    write(tmp_path, "worker_processes 1;\n", "conf/inc.conf")
    write(tmp_path, "include inc.conf;\n")
    dump = []
    conf.load("conf/nginx.conf", str(tmp_path), dump=dump)
    assert dump == [(str(tmp_path / "conf" / "nginx.conf"), "include inc.conf;\n"),
                    (str(tmp_path / "conf" / "inc.conf"), "worker_processes 1;\n")]


_WORDS = st.sampled_from(["http", "server", "location", "events", "listen", "8080", "127.0.0.1:80", "ssl",
                          "return", "200", "include", "*.conf", "worker_processes", "auto", "resolver",
                          "valid=1s", "keepalive_timeout", "10s", "=", "~", "/a", "(", "error_log", "stderr",
                          "access_log", "off", "types", "lua_shared_dict", "d", "1m", "python_path", "x;;"])
_PIECES = st.one_of(_WORDS, st.sampled_from([" ", "\n", ";", "{", "}", "#", "\"", "'", "\\", "$", "${"]),
                    st.text(max_size=4))


@settings(max_examples=200, deadline=500, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pieces=st.lists(_PIECES, max_size=30), extra=st.lists(_PIECES, max_size=5))
def test_random_text_only_raises_conf_error(tmp_path, pieces, extra):
    text = " ".join(pieces)
    write(tmp_path, text)
    try:
        conf.load("conf/nginx.conf", str(tmp_path), " ".join(extra))
    except ConfError:
        pass
