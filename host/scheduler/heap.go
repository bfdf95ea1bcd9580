package scheduler

// dueHeap orders the node's flows by when they are due (a binary min-heap:
// O(log n) to add, move or take one; the dispatcher sleeps until the
// earliest).
type dueHeap []*flow

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].due < h[j].due }
func (h dueHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx = i
	h[j].idx = j
}

func (h *dueHeap) Push(x any) {
	f := x.(*flow)
	f.idx = len(*h)
	*h = append(*h, f)
}

func (h *dueHeap) Pop() any {
	old := *h
	n := len(old)
	f := old[n-1]
	old[n-1] = nil
	f.idx = -1
	*h = old[:n-1]
	return f
}
