// layout: what the form shows, derived from the schema's node tree (schema.js) alone:
// sections, groups of fields, maps of named entries, lists, and the control of every leaf.
// Pure; form.js turns it into elements bound to the documents. Nothing here names a field
// of the document: placement comes from the x-manifestd-form hints (schema.json "form"):
//   label        the field's label (default: its name in words)
//   section      top-level members: the section they appear in (default: their own)
//   sections     on the document: the order of the sections
//   advanced     shown under "More settings" of its group, closed at first
//   item         maps and lists: what one entry is called ("port": "Add port")
//   compact      maps: each entry on one line
//   summary      shown in the one-line summary of the entry it belongs to
//   multiline    strings: a text area
//   enumLabels   words for enum values ({"": "automatic"})
//   choice, none objects with oneOf / atMostOneOf: the label of the member picker, and
//                what picking no member means
//   showIf       {"sibling/path": [values]}: shown only while that value is one of these
//   disableIf    {"sibling/path": [values]}, with disabledText: greyed out meanwhile
//   warnIf       [values], with warning: a warning while the field's value is one of these
//   shorthandFor "sibling/path": an input-only shorthand that stands for that field
//   catalogType  maps: each entry is an instance of the catalog type its member of this
//                name gives; its params come from the type (GET /api/v1/catalog/{type})
//   distinctFrom maps: "/pointer" of another map whose keys an entry's name may not take
//   secretsIn    with catalogType: "/pointer" of the map where an instance's secrets are
//                declared (an added instance declares the keys its type needs there)
//   catalogConsumer maps: "/pointer" of a catalogType map; each key names one of its
//                entries and the value takes that entry's type's consumer params
//   (components.js and form.js read the last four)
//
// Items: {type, path (names; '*' a map entry, '[]' a list item), name, node, label, ...}
//   field: control (text, textarea, int, intOrString, bool, select, lines, json, secret);
//          select: an enum, or a nullable boolean (inherit, true, false)
//   group: items, advanced (items), choice {exactly, members (items), label, none} | null
//   map:   item (noun of one entry), entry (the item of every entry's value)
//   list:  item, entry
// formLayout(root) -> [{title, id, items}] sections in order.

import { choiceMembers, humanize } from './schema.js';

function control(node) {
	switch (node.kind) {
	case 'boolean': return node.nullable ? 'select' : 'bool'; // null: inherit
	case 'integer': return 'int';
	case 'intOrString': return 'intOrString';
	case 'secret': return 'secret';
	case 'array': return 'lines';
	case 'raw': case 'any': return 'json';
	case 'string': return node.enum ? 'select' : node.form.multiline ? 'textarea' : 'text';
	default: return 'text';
	}
}

export function layoutOf(node, path) {
	const base = { path, name: path[path.length - 1], node, label: node.label || humanize(path[path.length - 1] || '') };
	if (node.kind === 'object') return groupOf(node, path, base);
	if (node.kind === 'map')
		return { ...base, type: 'map', item: node.form.item || 'entry', entry: { ...layoutOf(node.values, [...path, '*']), label: node.form.item || 'entry' } };
	if (node.kind === 'array' && node.items.kind === 'object')
		return { ...base, type: 'list', item: node.form.item || 'item', entry: { ...layoutOf(node.items, [...path, '[]']), label: node.form.item || 'item' } };
	return { ...base, type: 'field', control: control(node) };
}

function groupOf(node, path, base) {
	const members = choiceMembers(node);
	const children = node.props.map((p) => layoutOf(p, [...path, p.name]));
	const rest = children.filter((c) => !members.has(c.name));
	const choice = members.size ? {
		exactly: Boolean(node.oneOf),
		members: children.filter((c) => members.has(c.name)),
		label: node.form.choice || 'Type',
		none: node.form.none || 'none',
	} : null;
	return {
		...base, type: 'group', choice,
		items: rest.filter((c) => !c.node.form.advanced),
		advanced: rest.filter((c) => c.node.form.advanced),
	};
}

// The document's sections: each top-level member in the section its hint names (or one of
// its own, titled by its label), in the order the document's "sections" hint gives, then
// in the order met.
export function formLayout(root) {
	const sections = new Map();
	for (const t of root.form.sections || []) sections.set(t, []);
	for (const p of root.props) {
		const item = layoutOf(p, [p.name]);
		const title = p.form.section || item.label;
		if (!sections.has(title)) sections.set(title, []);
		sections.get(title).push(item);
	}
	return [...sections].filter(([, items]) => items.length)
		.map(([title, items]) => ({ title, id: `sec-${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`, items }));
}

// Every item below (and including) item, depth first: groups' items, advanced items and
// choice members, maps' and lists' entries.
export function* walk(item) {
	yield item;
	const kids = item.type === 'group' ? [...item.items, ...item.advanced, ...(item.choice?.members || [])]
		: item.type === 'map' || item.type === 'list' ? [item.entry] : [];
	for (const k of kids) yield* walk(k);
}

// The path of every field the form can show, as schemaLeaves() writes them.
export function layoutLeaves(sections) {
	return sections.flatMap((s) => s.items.flatMap((i) => [...walk(i)]))
		.filter((i) => i.type === 'field').map((i) => i.path.join('/'));
}
