package mustgather

import (
	"cmp"
	"context"
	"fmt"
	"path"
	"reflect"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

var _ client.Reader = (*Dump)(nil)

// NotGatheredError says that the dump does not hold a kind, or not in a namespace: the object is unknown, not
// absent. It matches meta.IsNoMatchError, as a kind the API server does not serve, which the gatherers and
// lookups read as "unknown".
type NotGatheredError struct {
	Kind      string
	Namespace string
}

func (e *NotGatheredError) Error() string {
	if e.Namespace != "" {
		return fmt.Sprintf("the must-gather holds no %s of namespace %s (gather it with oc adm inspect ns/%s)", e.Kind, e.Namespace, e.Namespace)
	}
	return fmt.Sprintf("the must-gather holds no %s (gather them with oc adm inspect %s)", e.Kind, e.Kind)
}

func (e *NotGatheredError) Unwrap() error {
	return &meta.NoKindMatchError{GroupKind: schema.GroupKind{Kind: e.Kind}}
}

// Get reads one object as of the gather.
func (d *Dump) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	gvk, err := d.gvkOf(obj)
	if err != nil {
		return err
	}
	k, ok := kindOf(gvk.GroupKind())
	if !ok {
		return &NotGatheredError{Kind: gvk.Kind}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	stored, ok := d.objects[k.gvk.GroupKind()][key]
	if !ok && k.byName {
		stored, ok = d.readByName(k, key.Name)
	}
	if !ok {
		if !d.holds(k, key.Namespace) {
			return &NotGatheredError{Kind: k.String(), Namespace: key.Namespace}
		}
		return apierrors.NewNotFound(schema.GroupResource{Group: k.gvk.Group, Resource: k.resource}, key.Name)
	}
	if partial, ok := obj.(*metav1.PartialObjectMetadata); ok {
		partial.ObjectMeta = objectMeta(stored)
		return nil
	}
	return copyInto(stored.DeepCopyObject(), obj)
}

// readByName reads cluster-scoped-resources/<group>/<resource>/<name>.yaml of a kind loaded by name. The caller
// holds d.mu.
func (d *Dump) readByName(k kind, name string) (client.Object, bool) {
	if !validName(name) {
		return nil, false
	}
	for _, base := range d.bases {
		dir := path.Join(base, clusterScopedDir, k.groupDir(), k.resource)
		if file := path.Join(dir, name+".yaml"); d.isRegular(file) {
			d.readFile(file, k)
		}
	}
	o, ok := d.objects[k.gvk.GroupKind()][client.ObjectKey{Name: name}]
	return o, ok
}

// holds reports whether the dump holds kind k in namespace ("" for a cluster-scoped kind, or any namespace).
func (d *Dump) holds(k kind, namespace string) bool {
	if !k.namespaced {
		namespace = ""
	}
	if namespace != "" || !k.namespaced {
		return d.gathered[gatheredKey{gk: k.gvk.GroupKind(), namespace: namespace}]
	}
	for key := range d.gathered {
		if key.gk == k.gvk.GroupKind() {
			return true
		}
	}
	return false
}

// Holds reports whether the dump holds the kind in namespace: Events, Secrets... of namespaces not gathered, or a
// kind not gathered at all, are unknown.
func (d *Dump) Holds(gk schema.GroupKind, namespace string) bool {
	k, ok := kindOf(gk)
	if !ok {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.holds(k, namespace)
}

// List reads the objects of a kind as of the gather, with the namespace, label and field selectors the API server
// would apply. Field selectors: metadata.name, metadata.namespace, and an Event's involvedObject fields (the
// selectors gather/ uses); any other is refused, as the API server refuses a field it does not index.
func (d *Dump) List(_ context.Context, list client.ObjectList, opts ...client.ListOption) error {
	gvk, err := d.gvkOf(list)
	if err != nil {
		return err
	}
	gvk.Kind = strings.TrimSuffix(gvk.Kind, "List")
	k, ok := kindOf(gvk.GroupKind())
	if !ok || k.byName {
		return &NotGatheredError{Kind: gvk.Kind}
	}
	o := (&client.ListOptions{}).ApplyOptions(opts)
	if o.FieldSelector != nil {
		supported := selectableFields(&corev1.Event{})
		for _, r := range o.FieldSelector.Requirements() {
			if !supported.Has(r.Field) {
				return apierrors.NewBadRequest(fmt.Sprintf("field label not supported: %s", r.Field))
			}
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.holds(k, o.Namespace) {
		return &NotGatheredError{Kind: k.String(), Namespace: o.Namespace}
	}
	var matched []client.Object
	for key, obj := range d.objects[k.gvk.GroupKind()] {
		if o.Namespace != "" && key.Namespace != o.Namespace {
			continue
		}
		if o.LabelSelector != nil && !o.LabelSelector.Matches(labels.Set(obj.GetLabels())) {
			continue
		}
		if o.FieldSelector != nil && !o.FieldSelector.Matches(selectableFields(obj)) {
			continue
		}
		matched = append(matched, obj)
	}
	slices.SortFunc(matched, func(a, b client.Object) int {
		return cmp.Or(cmp.Compare(a.GetNamespace(), b.GetNamespace()), cmp.Compare(a.GetName(), b.GetName()))
	})
	if partial, ok := list.(*metav1.PartialObjectMetadataList); ok {
		partial.Items = make([]metav1.PartialObjectMetadata, len(matched))
		for i, obj := range matched {
			partial.Items[i].TypeMeta = metav1.TypeMeta{APIVersion: k.gvk.GroupVersion().String(), Kind: k.gvk.Kind}
			partial.Items[i].ObjectMeta = objectMeta(obj)
		}
		return nil
	}
	items := make([]runtime.Object, len(matched))
	for i, obj := range matched {
		if o.UnsafeDisableDeepCopy != nil && *o.UnsafeDisableDeepCopy {
			items[i] = obj
		} else {
			items[i] = obj.DeepCopyObject()
		}
	}
	return meta.SetList(list, items)
}

func (d *Dump) gvkOf(obj runtime.Object) (schema.GroupVersionKind, error) {
	switch obj.(type) {
	case *metav1.PartialObjectMetadata, *metav1.PartialObjectMetadataList:
		gvk := obj.GetObjectKind().GroupVersionKind()
		if gvk.Kind == "" {
			return gvk, fmt.Errorf("%T without a kind", obj)
		}
		return gvk, nil
	}
	return apiutil.GVKForObject(obj, d.scheme)
}

// selectableFields are the fields the API server selects an object by: metadata.name and metadata.namespace, and
// an Event's involvedObject fields (k8s.io/kubernetes pkg/apis/core/v1/conversion.go); the selectors gather/ uses.
func selectableFields(obj client.Object) fields.Set {
	set := fields.Set{"metadata.name": obj.GetName(), "metadata.namespace": obj.GetNamespace()}
	if e, ok := obj.(*corev1.Event); ok {
		ref := e.InvolvedObject
		set["involvedObject.kind"] = ref.Kind
		set["involvedObject.namespace"] = ref.Namespace
		set["involvedObject.name"] = ref.Name
		set["involvedObject.uid"] = string(ref.UID)
		set["involvedObject.apiVersion"] = ref.APIVersion
		set["involvedObject.resourceVersion"] = ref.ResourceVersion
		set["involvedObject.fieldPath"] = ref.FieldPath
	}
	return set
}

// objectMeta is a copy of a stored object's metadata: every kind the dump holds embeds metav1.ObjectMeta.
func objectMeta(obj client.Object) metav1.ObjectMeta {
	return *obj.(metav1.ObjectMetaAccessor).GetObjectMeta().(*metav1.ObjectMeta).DeepCopy()
}

// copyInto sets *dst to *src, two pointers to the same type.
func copyInto(src runtime.Object, dst client.Object) error {
	sv, dv := reflect.ValueOf(src), reflect.ValueOf(dst)
	if sv.Type() != dv.Type() {
		return fmt.Errorf("reading a %T into a %T", src, dst)
	}
	dv.Elem().Set(sv.Elem())
	return nil
}
