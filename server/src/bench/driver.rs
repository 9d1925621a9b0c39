//! Runs a workload on concurrent loopback HTTP clients and collects what it measured.

use std::future::Future;
use std::time::{Duration, Instant};

/// One kind of request the bench sends. Each worker keeps a `State` between calls (a refresh
/// token chain, a bearer header); `call` says whether the answer was the right one.
pub trait Work: Clone + Send + Sync + 'static {
    type State: Send + 'static;
    fn call(
        &self,
        client: &reqwest::Client,
        state: Self::State,
    ) -> impl Future<Output = (bool, Self::State)> + Send;
}

#[derive(Default)]
pub struct Figures {
    ok: u64,
    failed: u64,
    latencies: Vec<Duration>,
    elapsed: Duration,
}

impl Figures {
    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    fn add(&mut self, other: Figures) {
        self.ok += other.ok;
        self.failed += other.failed;
        self.latencies.extend(other.latencies);
        self.elapsed += other.elapsed;
    }

    /// The mean latency of the calls.
    pub fn mean(&self) -> Duration {
        let n = u32::try_from(self.latencies.len())
            .unwrap_or(u32::MAX)
            .max(1);
        self.latencies.iter().sum::<Duration>() / n
    }

    /// The latency below which a share `p` of the calls answered.
    pub fn percentile(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::default();
        }
        let mut l = self.latencies.clone();
        let at = ((l.len() as f64 * p) as usize).min(l.len() - 1);
        // One selection, not a sort: the figures ask for two percentiles of every phase.
        *l.select_nth_unstable(at).1
    }

    pub fn print(&self, what: &str) {
        let pct = |p: f64| self.percentile(p);
        println!(
            "  {what:<28} {:>9.0} /s   p50 {:>6.2} ms   p99 {:>6.2} ms   ({} ok, {} failed)",
            self.rate(),
            pct(0.50).as_secs_f64() * 1000.0,
            pct(0.99).as_secs_f64() * 1000.0,
            self.ok,
            self.failed
        );
    }
}

fn client(n: usize) -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(n)
        // Nothing here redirects; without a policy reqwest doesn't re-parse each URL.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client")
}

/// Runs `work` on one worker per state for `secs` seconds.
pub async fn drive<W: Work>(secs: u64, states: Vec<W::State>, work: W) -> Figures {
    let client = client(states.len());
    run_slice(&client, Duration::from_secs(secs), states, &work)
        .await
        .0
}

/// Runs two workloads in alternating slices of half a second and sums each one's figures.
/// The speed of a shared machine drifts from second to second; alternating puts the same
/// drift into both figures, so their ratio holds where back-to-back phases would not.
pub async fn alternate<A: Work, B: Work>(
    secs: u64,
    (mut a_states, a): (Vec<A::State>, A),
    (mut b_states, b): (Vec<B::State>, B),
) -> (Figures, Figures) {
    const SLICE: Duration = Duration::from_millis(500);
    let client_a = client(a_states.len());
    let client_b = client(b_states.len());
    let (mut fa, mut fb) = (Figures::default(), Figures::default());
    for _ in 0..(secs * 2).max(1) {
        let (f, s) = run_slice(&client_a, SLICE, a_states, &a).await;
        fa.add(f);
        a_states = s;
        let (f, s) = run_slice(&client_b, SLICE, b_states, &b).await;
        fb.add(f);
        b_states = s;
    }
    (fa, fb)
}

/// One worker per state until `span` has passed; returns the figures and the states.
async fn run_slice<W: Work>(
    client: &reqwest::Client,
    span: Duration,
    states: Vec<W::State>,
    work: &W,
) -> (Figures, Vec<W::State>) {
    let start = Instant::now();
    let deadline = start + span;
    let mut tasks = Vec::new();
    for state in states {
        let (client, work) = (client.clone(), work.clone());
        tasks.push(tokio::spawn(async move {
            let (mut f, mut state) = (Figures::default(), state);
            while Instant::now() < deadline {
                let t = Instant::now();
                let (good, next) = work.call(&client, state).await;
                state = next;
                f.latencies.push(t.elapsed());
                if good { f.ok += 1 } else { f.failed += 1 }
            }
            (f, state)
        }));
    }
    let mut f = Figures::default();
    let mut states = Vec::with_capacity(tasks.len());
    for t in tasks {
        let (worker, state) = t.await.expect("worker");
        f.add(worker);
        states.push(state);
    }
    f.elapsed = start.elapsed();
    (f, states)
}
