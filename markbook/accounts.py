"""Teachers, sign-in sessions, classes, students and their access codes."""
from __future__ import annotations

from datetime import timedelta
from typing import Iterable

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from . import auth
from .auth import AuthError, Principal
from .models import AuthSession, SchoolClass, Student, Submission, Teacher, utcnow
from .names import name_key
from .base import ServiceBase
from .views import ClassView, StudentView


class AccountsMixin(ServiceBase):
    """Teachers and sign-in; classes, students and access codes."""

    # ---------------------------------------------------------------- teachers & sign-in
    def teacher_count(self) -> int:
        with self.db.session() as s:
            return s.scalar(select(func.count(Teacher.id))) or 0

    def create_teacher(self, name: str, email: str, password: str, *, first_run: bool = False) -> Principal:
        """Create a teacher. ``first_run=True`` (the app's setup form) only works while none exist."""
        name, email = name.strip(), email.strip().lower()
        if not name or "@" not in email:
            raise AuthError("Give a name and a valid email address.")
        auth.check_password_strength(password)
        with self.db.session() as s:
            if first_run and s.scalar(select(func.count(Teacher.id))):
                raise AuthError("A teacher account already exists; sign in instead.")
            if s.scalar(select(Teacher.id).where(Teacher.email == email)):
                raise AuthError(f"A teacher with email {email} already exists.")
            t = Teacher(name=name, email=email, password_hash=auth.hash_secret(password))
            s.add(t)
            s.flush()
            self._audit(s, None, "teacher.create", "teacher", t.id, email=email)
            return Principal("teacher", t.id, t.name)

    def sign_in_teacher(self, email: str, password: str) -> tuple[Principal, str]:
        """Check the password; return the teacher and a new session token."""
        email = email.strip().lower()
        with self.db.session() as s:
            t = s.scalar(select(Teacher).where(Teacher.email == email))
            if t is None:
                auth.verify_secret(_DUMMY_HASH(), password)  # same time as a wrong password
                raise AuthError("Wrong email or password.")
            if not auth.verify_secret(t.password_hash, password):
                self._audit(s, None, "signin.failed", "teacher", t.id)
                s.commit()
                raise AuthError("Wrong email or password.")
            if auth.needs_rehash(t.password_hash):
                t.password_hash = auth.hash_secret(password)
            t.last_login_at = utcnow()
            p = Principal("teacher", t.id, t.name)
            token = self._new_session(s, p)
            self._audit(s, p, "signin", "teacher", t.id)
            return p, token

    def sign_in_student(self, code: str) -> tuple[Principal, str]:
        code = auth.normalise_code(code)
        if len(code) != auth.CODE_LENGTH:
            raise AuthError("That access code is not right. It has 8 letters and numbers, like ABCD-EFGH.")
        with self.db.session() as s:
            for st in s.scalars(select(Student).where(Student.code_prefix == code[: auth.CODE_PREFIX])):
                if st.code_hash and auth.verify_secret(st.code_hash, code):
                    p = Principal("student", st.id, st.name)
                    token = self._new_session(s, p)
                    self._audit(s, p, "signin", "student", st.id)
                    return p, token
            raise AuthError("That access code is not right. Check it with your teacher.")

    @staticmethod
    def _new_session(s: Session, p: Principal) -> str:
        token = auth.new_session_token()
        now = utcnow()
        # housekeeping: forget sessions that ended more than a day ago
        s.execute(delete(AuthSession).where(AuthSession.expires_at < now - timedelta(days=1)))
        s.add(AuthSession(token_hash=auth.token_hash(token), kind=p.kind, user_id=p.id, created_at=now,
                          last_seen_at=now, expires_at=now + auth.SESSION_IDLE[p.kind]))
        return token

    def resume_session(self, token: str | None) -> Principal:
        """The user behind a session token; slides the expiry. Raises AuthError when expired."""
        if not token:
            raise AuthError("Please sign in.")
        with self.db.session() as s:
            sess = s.scalar(select(AuthSession).where(AuthSession.token_hash == auth.token_hash(token)))
            now = utcnow()
            if sess is None or sess.revoked:
                raise AuthError("Please sign in.")
            if sess.expires_at <= now:
                raise AuthError("Your session has expired. Please sign in again.")
            if sess.kind == "teacher":
                user = s.get(Teacher, sess.user_id)
            else:
                user = s.get(Student, sess.user_id)
            if user is None:
                raise AuthError("Please sign in.")
            if now - sess.last_seen_at > timedelta(seconds=30):  # avoid a write on every click
                sess.last_seen_at = now
                sess.expires_at = now + auth.SESSION_IDLE[sess.kind]
            return Principal(sess.kind, user.id, user.name)

    def sign_out(self, token: str | None) -> None:
        if not token:
            return
        with self.db.session() as s:
            sess = s.scalar(select(AuthSession).where(AuthSession.token_hash == auth.token_hash(token)))
            if sess:
                sess.revoked = True

    def expire_session_now(self, token: str) -> None:
        """For tests and admin: make a session already expired."""
        with self.db.session() as s:
            sess = s.scalar(select(AuthSession).where(AuthSession.token_hash == auth.token_hash(token)))
            if sess:
                sess.expires_at = utcnow() - timedelta(seconds=1)

    # ---------------------------------------------------------------- classes & students
    def create_class(self, actor: Principal, name: str) -> int:
        self._need_teacher(actor)
        name = name.strip()
        if not name:
            raise ValueError("Give the class a name.")
        with self.db.session() as s:
            if s.scalar(select(SchoolClass.id).where(SchoolClass.teacher_id == actor.id, SchoolClass.name == name)):
                raise ValueError(f"You already have a class called {name}.")
            c = SchoolClass(teacher_id=actor.id, name=name)
            s.add(c)
            s.flush()
            self._audit(s, actor, "class.create", "class", c.id, name=name)
            return c.id

    def list_classes(self, actor: Principal) -> list[ClassView]:
        self._need_teacher(actor)
        with self.db.session() as s:
            out = []
            for c in s.scalars(select(SchoolClass).where(SchoolClass.teacher_id == actor.id).order_by(SchoolClass.name)):
                out.append(ClassView(c.id, c.name, len(c.students), len(c.assignments)))
            return out

    def add_students(self, actor: Principal, class_id: int, names: Iterable[str]) -> list[str]:
        """Add students by name (duplicates ignored). Returns the names newly added."""
        with self.db.session() as s:
            c = self._class(s, actor, class_id)
            added = [st.name for st in self._ensure_students(s, c, names)[1]]
            if added:
                self._audit(s, actor, "students.add", "class", c.id, names=added)
            return added

    @staticmethod
    def _ensure_students(s: Session, c: SchoolClass, names: Iterable[str]) -> tuple[dict[str, Student], list[Student]]:
        existing = {name_key(st.name): st for st in s.scalars(select(Student).where(Student.class_id == c.id))}
        new: list[Student] = []
        for n in names:
            n = " ".join(n.split())
            if n and name_key(n) not in existing:
                st = Student(class_id=c.id, name=n)
                s.add(st)
                existing[name_key(n)] = st
                new.append(st)
        s.flush()
        return existing, new

    def list_students(self, actor: Principal, class_id: int) -> list[StudentView]:
        with self.db.session() as s:
            c = self._class(s, actor, class_id)
            counts = dict(s.execute(select(Submission.student_id, func.count(Submission.id))
                                    .join(Student).where(Student.class_id == c.id)
                                    .group_by(Submission.student_id)).all())
            return [StudentView(st.id, st.name, st.code_hash is not None, counts.get(st.id, 0)) for st in c.students]

    def issue_access_codes(self, actor: Principal, class_id: int, student_ids: Iterable[int] | None = None,
                           *, only_missing: bool = False) -> dict[str, str]:
        """New access codes (student name -> code as ABCD-EFGH). Shown once; only hashes are kept.

        Issuing a new code replaces the old one (a lost code is simply re-issued).
        """
        with self.db.session() as s:
            c = self._class(s, actor, class_id)
            wanted = set(student_ids) if student_ids is not None else None
            codes: dict[str, str] = {}
            for st in c.students:
                if wanted is not None and st.id not in wanted:
                    continue
                if only_missing and st.code_hash:
                    continue
                code = auth.new_access_code()
                st.code_prefix, st.code_hash, st.code_issued_at = code[: auth.CODE_PREFIX], auth.hash_secret(code), utcnow()
                codes[st.name] = auth.format_code(code)
            # Revoke the students' open sessions so an old code's holder is signed out.
            ids = [st.id for st in c.students if st.name in codes]
            for sess in s.scalars(select(AuthSession).where(AuthSession.kind == "student", AuthSession.user_id.in_(ids))):
                sess.revoked = True
            self._audit(s, actor, "codes.issue", "class", c.id, students=sorted(codes))
            return codes



def _DUMMY_HASH(_cache: list[str] = []) -> str:  # noqa: B006 - deliberate memo
    if not _cache:
        _cache.append(auth.hash_secret("not a real password"))
    return _cache[0]
