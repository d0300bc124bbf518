"""portal.memo under gunicorn's threaded workers: what one thread remembered at one version is
never given to a thread serving another."""

import threading

from portal import memo


def in_thread(work):
    out = []
    thread = threading.Thread(target=lambda: out.append(work()))
    thread.start()
    thread.join()
    return out[0]


def test_a_value_read_at_an_older_version_is_not_served_at_a_newer_one():
    newer = threading.Event()
    older_stored = threading.Event()
    answer = []

    def serving_the_new_version():
        memo.at_versions("2")
        newer.set()
        older_stored.wait(5)
        answer.append(memo.remembered("menu", lambda: "menu at version 2"))

    thread = threading.Thread(target=serving_the_new_version)
    thread.start()
    newer.wait(5)
    try:
        memo.at_versions("1")  # a request of this thread, begun before the change
        assert memo.remembered("menu", lambda: "menu at version 1") == "menu at version 1"
    finally:
        older_stored.set()
        thread.join()
        memo.at_versions(None)
    assert answer == ["menu at version 2"]


def test_each_thread_remembers_for_itself():
    memo.at_versions("7")
    try:
        memo.remembered("k", lambda: "here")
        assert (
            in_thread(lambda: (memo.at_versions("7"), memo.remembered("k", lambda: "there"))[1])
            == "there"
        )
        assert memo.remembered("k", lambda: "again") == "here"
    finally:
        memo.at_versions(None)
