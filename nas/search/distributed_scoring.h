// A search's candidates scored on every rank of an MPI job (docs/distributed.md).
//
// Rank 0 runs the strategy (run_search with the BatchScoreFn made here); the other ranks run
// serve_scoring until the root calls stop_scoring. Each batch goes to every rank as candidate
// texts; rank r scores the candidates k with k % size == r through score_candidates (one
// candidate per thread, its kernels on one thread), and the root collects the metrics by
// position. A candidate's metrics therefore do not depend on which rank or thread scored it:
// history.csv and best.json are byte-identical to a single-process run for any number of ranks
// and threads. An error on any rank (a failed build, a bad text) comes back to the root as an
// Error naming the rank.
// On a single process the BatchScoreFn is score_candidates itself.
#pragma once
#include "core/distributed.h"
#include "nas/search/search.h"

namespace piconas::nas::search {

// Every rank holds the same space and score function; `comm`, `space` and `score` must
// outlive the returned function, which only the root calls.
BatchScoreFn make_distributed_score_fn(const Communicator& comm, const SearchSpace& space,
                                       const ScoreFn& score);
// Non-root ranks: score the root's batches until stop_scoring.
void serve_scoring(const Communicator& comm, const SearchSpace& space, const ScoreFn& score);
// Root: releases the serving ranks (call once the search has ended).
void stop_scoring(const Communicator& comm);

}  // namespace piconas::nas::search
