"""Helpers for the contact and messaging tests: daemons that know each other."""
import procutil


def kith_id(node):
    return node.run_json("id", "--json")


def befriend(asker, answerer, timeout=20):
    """`asker` adds `answerer`'s invite, `answerer` accepts; waits until both see each other online."""
    invite = kith_id(answerer)["invite"]
    asker_id = kith_id(asker)["id"]
    asker.run("contacts", "add", invite)
    procutil.wait_for(lambda: any(r["id"] == asker_id for r in answerer.run_json("contacts", "requests", "--json")),
                      timeout, what="the contact request to arrive")
    answerer.run("contacts", "accept", asker_id)
    wait_online(asker, kith_id(answerer)["id"], timeout)
    wait_online(answerer, asker_id, timeout)


def contact(node, who):
    status, body = node.api("GET", "/api/v1/contacts/" + who)
    return body if status == 200 else None


def wait_online(node, who, timeout=20):
    def online():
        c = contact(node, who)
        return c if c and c["state"] == "accepted" and c["online"] else None
    return procutil.wait_for(online, timeout, what="%s online at %s" % (who[:8], node.home))


def messages(node, with_=None, search=None):
    path = "/api/v1/messages?limit=1000"
    if with_:
        path += "&with=" + with_
    if search:
        path += "&search=" + search
    status, body = node.api("GET", path)
    assert status == 200, body
    return body["messages"]


def send(node, to, text):
    status, body = node.api("POST", "/api/v1/messages", {"to": to, "text": text})
    assert status == 201, body
    return body


def wait_messages(node, count, with_=None, timeout=30, incoming_only=True):
    def enough():
        got = [m for m in messages(node, with_) if not incoming_only or not m["outgoing"]]
        return got if len(got) >= count else None
    return procutil.wait_for(enough, timeout, what="%d messages at %s" % (count, node.home))
