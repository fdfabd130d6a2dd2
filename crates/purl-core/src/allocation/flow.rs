//! Maximum flow (Dinic) on the small class-to-fund network that turns the funded quantities into
//! actual payments. Deterministic: edges are explored in the order they were added.

pub(crate) struct FlowNetwork {
    /// Per node, the indices of its edges in `edges`.
    adjacency: Vec<Vec<usize>>,
    /// (to, remaining capacity); edge `i ^ 1` is the reverse of edge `i`.
    edges: Vec<(usize, i128)>,
}

impl FlowNetwork {
    pub(crate) fn new(nodes: usize) -> Self {
        Self {
            adjacency: vec![Vec::new(); nodes],
            edges: Vec::new(),
        }
    }

    /// Adds an edge and returns its index, to read its flow afterwards.
    pub(crate) fn add_edge(&mut self, from: usize, to: usize, capacity: i128) -> usize {
        let index = self.edges.len();
        self.adjacency[from].push(index);
        self.edges.push((to, capacity));
        self.adjacency[to].push(index + 1);
        self.edges.push((from, 0));
        index
    }

    /// The flow through edge `index` (what its reverse edge holds).
    pub(crate) fn flow(&self, index: usize) -> i128 {
        self.edges[index ^ 1].1
    }

    pub(crate) fn max_flow(&mut self, source: usize, sink: usize) -> i128 {
        let mut total = 0;
        while let Some(levels) = self.levels(source, sink) {
            let mut next = vec![0usize; self.adjacency.len()];
            loop {
                let pushed = self.push(source, sink, i128::MAX, &levels, &mut next);
                if pushed == 0 {
                    break;
                }
                total += pushed;
            }
        }
        total
    }

    fn levels(&self, source: usize, sink: usize) -> Option<Vec<u32>> {
        let mut levels = vec![u32::MAX; self.adjacency.len()];
        levels[source] = 0;
        let mut queue = std::collections::VecDeque::from([source]);
        while let Some(node) = queue.pop_front() {
            for &edge in &self.adjacency[node] {
                let (to, capacity) = self.edges[edge];
                if capacity > 0 && levels[to] == u32::MAX {
                    levels[to] = levels[node] + 1;
                    queue.push_back(to);
                }
            }
        }
        (levels[sink] != u32::MAX).then_some(levels)
    }

    fn push(
        &mut self,
        node: usize,
        sink: usize,
        limit: i128,
        levels: &[u32],
        next: &mut [usize],
    ) -> i128 {
        if node == sink {
            return limit;
        }
        while next[node] < self.adjacency[node].len() {
            let edge = self.adjacency[node][next[node]];
            let (to, capacity) = self.edges[edge];
            if capacity > 0 && levels[to] == levels[node] + 1 {
                let pushed = self.push(to, sink, limit.min(capacity), levels, next);
                if pushed > 0 {
                    self.edges[edge].1 -= pushed;
                    self.edges[edge ^ 1].1 += pushed;
                    return pushed;
                }
            }
            next[node] += 1;
        }
        0
    }
}
