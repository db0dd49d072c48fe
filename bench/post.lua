-- wrk: POST the JSON body in $BENCH_BODY to the URL given on the command line.
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["content-type"] = "application/json"
