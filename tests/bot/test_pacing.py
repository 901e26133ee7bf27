"""Writes paced per installation, as GitHub asks: one at a time, ``write_interval``
apart, within the content-creation limits, and nothing while a rate limit lasts;
across worker threads here (across processes: test_redis)."""

from __future__ import annotations

import threading
import time

import pytest

from footgun.bot.app import create_app
from footgun.bot.github import GitHubApp
from footgun.bot.jobs import Jobs, Runtime
from footgun.bot.pacing import MemoryPaceState, PaceWait, WritePacer
from footgun.bot.routes import build_router
from footgun.bot.store import SqliteStore

from .harness import Bot, make_settings, start_bot, stop_bot
from .test_app_flow import DEPLOY, REPO, SERVICE, TYPO, setup_repo


class Clock:
    """A clock that ``sleep`` moves forward."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture(params=["memory", "sqlite"])
def state(request, tmp_path):
    return request.param, tmp_path


def _pacer(state, clock, **kwargs) -> WritePacer:
    kind, tmp_path = state
    backend = MemoryPaceState(clock) if kind == "memory" else SqliteStore(tmp_path / "q.db", clock)
    return WritePacer(backend, clock=clock, sleep=clock.sleep, **kwargs)


def test_writes_are_spaced_from_the_end_of_the_last_one(state):
    clock = Clock()
    pacer = _pacer(state, clock, interval=1.0)
    with pacer.write(7):
        clock.now += 0.3  # the request takes 0.3 s
    with pacer.write(7):
        started = clock.now
    assert started == pytest.approx(1000.0 + 0.3 + 1.0)
    with pacer.write(8):  # another installation is not held up
        assert clock.now == started


def test_content_creation_stays_within_the_per_minute_limit(state):
    clock = Clock()
    pacer = _pacer(state, clock, interval=0.0, per_minute=3, per_hour=None, max_wait=120)
    starts = []
    for _ in range(7):
        with pacer.write(7, content=True):
            starts.append(clock.now)
    for i in range(3, 7):  # never more than 3 in any 60 s
        assert starts[i] - starts[i - 3] >= 60
    with pacer.write(7, content=False):  # a PATCH is paced, not counted
        assert clock.now == starts[-1]


def test_the_hourly_limit_puts_the_job_back_rather_than_wait(state):
    clock = Clock()
    pacer = _pacer(state, clock, interval=0.0, per_minute=None, per_hour=2, max_wait=60)
    for _ in range(2):
        with pacer.write(7, content=True):
            pass
    with pytest.raises(PaceWait) as waited:
        with pacer.write(7, content=True):
            pass
    assert waited.value.seconds == pytest.approx(3600, abs=1)


def test_a_rate_limit_blocks_reads_and_writes_until_it_ends(state):
    clock = Clock()
    pacer = _pacer(state, clock, interval=0.0, max_wait=60)
    pacer.block(7, 5)
    pacer.wait_if_blocked(7)
    assert clock.now == 1005
    pacer.block(7, 5)
    with pacer.write(7):
        assert clock.now == 1010
    pacer.block(7, 600)
    with pytest.raises(PaceWait):
        pacer.wait_if_blocked(7)


def test_a_dead_holder_of_the_write_lock_blocks_for_its_ttl_only(tmp_path):
    clock = Clock()
    store = SqliteStore(tmp_path / "q.db", clock)
    pacer = WritePacer(store, interval=0.0, max_wait=1, request_time=1, clock=clock, sleep=clock.sleep)
    assert store.acquire("write:7", pacer.lock_ttl)  # taken, then its process was killed
    with pacer.write(7):
        assert clock.now >= 1000 + pacer.lock_ttl


def _open_prs(fake, count: int) -> list:
    setup_repo(fake, files={"k8s/deploy.yaml": DEPLOY, "k8s/svc.yaml": SERVICE})
    return [
        fake.open_pull_request(REPO, head=f"typo-{n}", user="alice", changes={f"k8s/svc{n}.yaml": TYPO})
        for n in range(count)
    ]


def _writes(fake, installation: int):
    """The installation's mutations (a token's creation is the App's, not paced)."""
    return sorted(
        (
            r
            for r in fake.requests.all()
            if r.installation_id == installation
            and not r.path.endswith("/access_tokens")
            and (
                r.method in ("PATCH", "PUT", "DELETE")
                or (r.method == "POST" and (r.graphql or {}).get("operation") != "query")
            )
        ),
        key=lambda r: r.started,
    )


def assert_serial_and_spaced(writes, interval: float) -> None:
    """Each write reached GitHub only after the one before had been answered, plus
    ``interval`` (the fake's clock is the request's arrival; the App's is earlier)."""
    for before, after in zip(writes, writes[1:]):
        assert after.started >= before.started + before.duration + interval - 0.002, (before, after)


def test_writes_of_many_pull_requests_in_flight_go_one_at_a_time(fake_github, tmp_path):
    prs = _open_prs(fake_github, 8)
    bot = start_bot(fake_github, tmp_path / "data", workers=4, write_interval=0.05)
    try:
        for pr in prs:
            assert bot.open(pr).status_code == 202
        bot.wait(timeout=60)
        assert all(len(bot.reviews(REPO, pr.number)) == 1 for pr in prs)
        installation = fake_github.installation_for(fake_github.repo(REPO)).id
        writes = _writes(fake_github, installation)
        assert len(writes) >= 3 * len(prs)  # check run created and completed, review
        assert_serial_and_spaced(writes, 0.05)
        assert not [r for r in fake_github.requests.all() if r.status in (403, 429)]
    finally:
        stop_bot(bot)


PER_MINUTE = 5


@pytest.mark.slow
def test_no_burst_beyond_githubs_content_creation_limit(fake_github, tmp_path):
    """GitHub's limit (the fake's, lowered to 5 a minute) against the App's pacing at
    the same limit: a dozen pull requests at once, and never a secondary rate limit.
    Both clocks run 60 times faster than the wall clock, so a minute lasts a second."""
    origin = time.time()

    def fast() -> float:
        return origin + (time.time() - origin) * 60

    fake_github.clock = fast
    fake_github.limits.content_per_minute, fake_github.limits.content_per_hour = 5, None
    prs = _open_prs(fake_github, 12)
    settings = make_settings(fake_github, tmp_path / "data", write_interval=0.0)
    settings.data_dir.mkdir(parents=True)
    pacer = WritePacer(
        SqliteStore(settings.data_dir / "queue.db", clock=fast),
        interval=0.0,
        per_minute=PER_MINUTE,
        per_hour=None,
        max_wait=600,
        clock=fast,
        sleep=lambda s: time.sleep(s / 60),
    )
    app = GitHubApp(
        fake_github.app.id, fake_github.app.private_key_pem, settings.api_url, backoff=0.01, pacer=pacer, timeout=5
    )
    jobs = Jobs(settings, build_router(), runtime=Runtime(settings, app))
    bot = Bot(fake_github, settings, jobs, create_app(settings, jobs).test_client())
    bot.consumer = jobs.consumer(workers=4, signals=False)
    bot.consumer.start()
    try:
        for pr in prs:
            assert bot.open(pr).status_code == 202
        bot.wait(timeout=90)
        assert all(len(bot.reviews(REPO, pr.number)) == 1 for pr in prs)
        assert not [r for r in fake_github.requests.all() if r.status == 403]
        created = [
            r for r in fake_github.requests.all() if r.method == "POST" and r.path.endswith(("/reviews", "/check-runs"))
        ]
        assert len(created) == 24  # a check run and a review each, none sent twice
    finally:
        stop_bot(bot)


def test_pacing_holds_across_threads_sharing_one_store(tmp_path):
    """Two pacers on one SQLite file (two processes), four threads each: never two
    writes at once, always the interval between them."""
    intervals: list[tuple[float, float]] = []
    guard = threading.Lock()
    pacers = [WritePacer(SqliteStore(tmp_path / "q.db"), interval=0.02) for _ in range(2)]

    def writer(pacer: WritePacer) -> None:
        for _ in range(5):
            with pacer.write(7):
                start = time.time()
                time.sleep(0.005)
                end = time.time()
            with guard:
                intervals.append((start, end))

    threads = [threading.Thread(target=writer, args=(pacers[i % 2],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    intervals.sort()
    assert len(intervals) == 40
    for (_, e1), (s2, _) in zip(intervals, intervals[1:]):
        assert s2 >= e1 + 0.02 - 0.002
