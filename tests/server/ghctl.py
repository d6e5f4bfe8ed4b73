# ghctl.py - what the loopback tests ask of tests/server/ghserver.py and of
# the files it writes, shared by tests/cli/bisect-dispatch.sh and
# tests/tui/bisect-dispatch.sh (called through their h()):
#   api READY                the API URL of a started server
#   ctl API PATH JSON        POST a fault or a behaviour to the server
#   refs API                 the branches left: "slug name sha", one a line
#   count LOG FROM PYEXPR    requests e of the log from line FROM matching
#   lines LOG                requests in the log
#   get FILE KEY             a top-level JSON value (objects, lists and
#                            booleans as JSON, null as nothing)
import json, sys, urllib.request

cmd = sys.argv[1]
if cmd == "api":
    print(json.load(open(sys.argv[2]))["api"])
elif cmd == "ctl":
    req = urllib.request.Request(sys.argv[2] + sys.argv[3], data=sys.argv[4].encode(), method="POST")
    urllib.request.urlopen(req).read()
elif cmd == "refs":
    d = json.load(urllib.request.urlopen(urllib.request.Request(sys.argv[2] + "/_ctl/refs", method="GET")))
    for slug, refs in sorted(d.items()):
        for name, sha in sorted(refs.items()):
            print(slug, name, sha)
elif cmd == "count":
    with open(sys.argv[2]) as f:
        es = [json.loads(l) for i, l in enumerate(f) if i >= int(sys.argv[3])]
    print(sum(1 for e in es if eval(sys.argv[4])))
elif cmd == "lines":
    print(sum(1 for _ in open(sys.argv[2])))
elif cmd == "get":
    v = json.load(open(sys.argv[2])).get(sys.argv[3])
    print("" if v is None else json.dumps(v) if isinstance(v, (dict, list, bool)) else v)
else:
    sys.exit("ghctl.py: unknown command %r" % cmd)
