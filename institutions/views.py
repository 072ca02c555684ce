from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render

from accounts.scoping import visible_to

from .models import Institution

PAGE_SIZE = 50


def institution_list(request):
    if request.user.is_filer:
        return redirect("institutions:mine")
    institutions = visible_to(request.user, Institution).select_related("city")
    query = request.GET.get("q", "").strip()[:100]
    if query:
        institutions = institutions.filter(Q(name__icontains=query) | Q(credit_code__iexact=query))
    page = Paginator(institutions, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "institutions/institution_list.html", {"page": page, "query": query})


def institution_detail(request, pk):
    institution = get_object_or_404(visible_to(request.user, Institution).select_related("city__parent"), pk=pk)
    return render(request, "institutions/institution_detail.html", {"institution": institution})


def my_institution(request):
    if not request.user.is_filer:
        raise Http404("只有机构填报人有“本单位”。")
    return institution_detail(request, request.user.institution_id)
