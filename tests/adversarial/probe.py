"""What a sandboxed process may and may not do, tried from inside it (tests/test_sandbox.py runs it
in a one-off sandbox, tests/test_warm.py in a kernel forked from the warm parent). Run with
``REPO`` defined; fills the dict ``out`` with each attempt's outcome ("ok" or the exception's name)."""

PROBE = r'''
import json, os, socket, sys
out = {"uid": os.getuid(), "gid": os.getgid(), "root": sorted(os.listdir("/")), "cwd": os.getcwd()}
def attempt(name, fn):
    try:
        fn()
        out[name] = "ok"
    except Exception as exc:
        out[name] = type(exc).__name__
attempt("read_solutions", lambda: open(REPO + "/solutions/q4_qkv_math/q4_qkv_math.ipynb").read())
attempt("read_nbgrader_config", lambda: open(REPO + "/nbgrader_config.py").read())
attempt("write_repo", lambda: open(REPO + "/attnkit/PWNED", "w").write("x"))
attempt("write_venv", lambda: open(sys.prefix + "/PWNED", "w").write("x"))
attempt("write_scratch", lambda: open("/scratch/mine.txt", "w").write("x"))
attempt("network", lambda: socket.create_connection(("1.1.1.1", 80), timeout=2))
attempt("import_checks", lambda: __import__("attnkit.grading.checks"))
attempt("import_exercises", lambda: __import__("attnkit.grading.content.exercises"))
attempt("import_engine", lambda: __import__("attnkit.grading.content.engine"))
attempt("import_numpy", lambda: __import__("numpy"))
out["limits"] = open("/proc/self/limits").read()
status = open("/proc/self/status").read()
out["capabilities"] = status.split("CapEff:")[1].split()[0]
out["bounding"] = status.split("CapBnd:")[1].split()[0]
out["no_new_privs"] = status.split("NoNewPrivs:")[1].split()[0]
'''
