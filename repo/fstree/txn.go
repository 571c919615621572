package fstree

// undo is one journal record: how to revert a single change.
type undo struct {
	dir  *node // setChild/delChild: the directory changed
	name string
	old  *node // the previous entry, nil when there was none
	n    *node // setMeta: the node changed
	meta meta  // setMeta: its previous metadata
}

// Txn groups changes so that they can be undone together. Transactions
// nest; they must be finished in the reverse order of Begin.
type Txn struct {
	t    *Tree
	mark int
	done bool
}

// Begin starts recording changes.
func (t *Tree) Begin() *Txn {
	t.txDepth++
	return &Txn{t: t, mark: len(t.journal)}
}

// Commit keeps the changes made since Begin. It does nothing after Commit
// or Rollback.
func (x *Txn) Commit() {
	if x.done {
		return
	}
	x.done = true
	x.t.txDepth--
	if x.t.txDepth == 0 {
		clear(x.t.journal)
		x.t.journal = x.t.journal[:0]
	}
}

// Rollback reverts every change made since Begin, so that a deferred
// Rollback after Commit is harmless. File content written to the spool in
// the meantime stays there, unreferenced.
func (x *Txn) Rollback() {
	if x.done {
		return
	}
	x.done = true
	t := x.t
	for i := len(t.journal) - 1; i >= x.mark; i-- {
		u := t.journal[i]
		switch {
		case u.n != nil:
			u.n.meta = u.meta
		case u.old != nil:
			u.dir.children[u.name] = u.old
		default:
			delete(u.dir.children, u.name)
		}
	}
	clear(t.journal[x.mark:])
	t.journal = t.journal[:x.mark]
	t.txDepth--
}

// setChild makes dir/name refer to n, journalled.
func (t *Tree) setChild(dir *node, name string, n *node) {
	if t.txDepth > 0 {
		t.journal = append(t.journal, undo{dir: dir, name: name, old: dir.children[name]})
	}
	dir.children[name] = n
}

// delChild removes dir/name, journalled.
func (t *Tree) delChild(dir *node, name string) {
	old, ok := dir.children[name]
	if !ok {
		return
	}
	if t.txDepth > 0 {
		t.journal = append(t.journal, undo{dir: dir, name: name, old: old})
	}
	delete(dir.children, name)
}

// setMeta replaces n's metadata, journalled.
func (t *Tree) setMeta(n *node, m meta) {
	if t.txDepth > 0 {
		t.journal = append(t.journal, undo{n: n, meta: n.meta})
	}
	n.meta = m
}
