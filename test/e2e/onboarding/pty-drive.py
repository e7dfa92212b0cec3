#!/usr/bin/env python3
"""Drive an interactive command through a pseudo-terminal.

Usage: pty-drive.py SCRIPT.json   (or the JSON on stdin)

SCRIPT: {"argv": ["node", "bin/run.js", "init"], "cwd": "...", "env": {...},
         "steps": [["text to wait for", "keys to send"], ...], "timeout": 20}

Each step waits (ANSI escapes stripped) until the text appears in the output after the previous
match, then writes the keys: "\\r" is Enter, " " Space, "\\u001b[B" arrow-down, "\\u001b[A" arrow-up.
After the last step the output is read to EOF. Prints one JSON object on stdout:
{"ok": bool, "exitCode": int, "failedStep": int|null, "output": "...", "raw": "..."} ("raw": the output
with its escape codes, "\\r" kept) and exits 0 when every
step matched (the child's exit code is in the JSON, not in the driver's status).
"""
import json
import os
import pty
import re
import select
import signal
import struct
import sys
import termios
import fcntl
import time

ANSI = re.compile(r'\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78]|\x1b\][^\x07]*\x07')


def clean(raw: bytes) -> str:
    return ANSI.sub('', raw.decode('utf-8', 'replace')).replace('\r', '')


def main() -> int:
    script = json.load(open(sys.argv[1]) if len(sys.argv) > 1 else sys.stdin)
    argv = script['argv']
    env = script.get('env') or dict(os.environ)
    env.setdefault('TERM', 'xterm-256color')
    deadline_per_step = float(script.get('timeout', 20))
    pid, fd = pty.fork()
    if pid == 0:  # child: the command, with the pty as its controlling terminal
        if script.get('cwd'):
            os.chdir(script['cwd'])
        os.execvpe(argv[0], argv, env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 40, 120, 0, 0))
    raw = b''
    pos = 0  # cleaned-output offset after the previous match
    eof = False

    def pump(timeout: float) -> None:
        nonlocal raw, eof
        r, _, _ = select.select([fd], [], [], timeout)
        if fd in r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the child closed the terminal
                chunk = b''
            if not chunk:
                eof = True
            raw += chunk

    failed = None
    for i, (expect, send) in enumerate(script['steps']):
        end = time.monotonic() + deadline_per_step
        while True:
            out = clean(raw)
            at = out.find(expect, pos)
            if at >= 0:
                pos = at + len(expect)
                break
            if eof or time.monotonic() > end:
                failed = i
                break
            pump(0.1)
        if failed is not None:
            break
        time.sleep(0.05)  # let the prompt finish drawing before typing
        os.write(fd, send.encode('utf-8'))
    if failed is not None:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    end = time.monotonic() + deadline_per_step
    while not eof and time.monotonic() < end:
        pump(0.1)
    if not eof:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    print(json.dumps({'ok': failed is None, 'exitCode': code, 'failedStep': failed, 'output': clean(raw), 'raw': raw.decode('utf-8', 'replace')}))
    return 0


if __name__ == '__main__':
    sys.exit(main())
