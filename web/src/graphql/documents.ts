import { gql } from '@urql/core';

/**
 * Every GraphQL operation the app sends. The build hashes each one into the trusted-documents
 * manifest (trusted-documents.ts), so an operation written anywhere else would be refused by a
 * gateway running with TRUSTED_DOCUMENTS=required: keep them all here.
 */

export const ME = gql`
  query Me {
    me {
      id
      username
      email
      roles
    }
  }
`;

export const SIGN_UP = gql`
  mutation SignUp($input: SignupInput!) {
    signup(input: $input) {
      jwt
      user {
        id
        username
        email
        roles
      }
    }
  }
`;

export const LOG_IN = gql`
  mutation LogIn($username: String!, $password: String!) {
    login(username: $username, password: $password) {
      jwt
      user {
        id
        username
        email
        roles
      }
    }
  }
`;

export const LOG_OUT = gql`
  mutation LogOut {
    logout
  }
`;

export const CATALOGUE = gql`
  query Catalogue($category: String, $search: String, $first: Int, $after: String) {
    courses(category: $category, search: $search, first: $first, after: $after) {
      id
      name
      category
      price
      cursor
      owner {
        id
        username
      }
    }
    categories
  }
`;

export const COURSE = gql`
  query Course($id: ID!) {
    course(id: $id) {
      id
      name
      info
      category
      price
      createdAt
      updatedAt
      owner {
        id
        username
      }
    }
  }
`;

/** What the signed-in person owns and attends (course page badges, My learning, the studio). */
export const MY_COURSES = gql`
  query MyCourses {
    me {
      id
      enrolledCourses {
        id
        name
        category
        price
        owner {
          id
          username
        }
      }
      ownedCourses {
        id
        name
        category
        price
        createdAt
      }
    }
  }
`;

export const BUY_COURSE = gql`
  mutation BuyCourse($courseId: ID!, $idempotencyKey: String) {
    buyCourse(courseId: $courseId, idempotencyKey: $idempotencyKey) {
      message
      alreadyOwned
      course {
        id
      }
    }
  }
`;

export const JOIN_LOBBY = gql`
  mutation JoinLobby($category: String!) {
    joinLobby(category: $category) {
      message
      course {
        id
        name
      }
    }
  }
`;

export const CREATE_COURSE = gql`
  mutation CreateCourse($input: CreateCourseInput!) {
    createCourse(input: $input) {
      id
      name
    }
  }
`;

export const UPDATE_COURSE = gql`
  mutation UpdateCourse($id: ID!, $input: UpdateCourseInput!) {
    updateCourse(id: $id, input: $input) {
      id
      name
      info
      category
      price
      updatedAt
    }
  }
`;

export const DELETE_COURSE = gql`
  mutation DeleteCourse($id: ID!) {
    deleteCourse(id: $id) {
      id
      message
    }
  }
`;

export const COURSE_CREATED = gql`
  subscription CourseCreated($category: String) {
    courseCreated(category: $category) {
      id
      name
    }
  }
`;

export const COURSE_UPDATED = gql`
  subscription CourseUpdated($id: ID) {
    courseUpdated(id: $id) {
      id
      name
      info
      category
      price
      updatedAt
    }
  }
`;

export const COURSE_DELETED = gql`
  subscription CourseDeleted {
    courseDeleted {
      id
    }
  }
`;

export const MY_NOTIFICATIONS = gql`
  subscription MyNotifications {
    myNotifications {
      kind
      courseId
      text
      createdAt
    }
  }
`;

/** A lesson as the course page, the player and the studio show it (the owner sees status and failure). */
const LESSON_FIELDS = `
  id
  title
  position
  status
  failureReason
  durationSeconds
  processingProgress
`;

/**
 * A course's lessons and the caller's progress. A query of its own (not part of COURSE) so the course
 * page still shows the course when the media service is briefly away.
 */
export const COURSE_LESSONS = gql`
  query CourseLessons($id: ID!) {
    course(id: $id) {
      id
      lessons {
        ${LESSON_FIELDS}
        myProgress {
          positionSeconds
          completed
        }
      }
      myProgress {
        completedLessons
        totalLessons
        percent
      }
    }
  }
`;

/** The player: the lesson's signed URLs and where the person stopped. */
export const LESSON_PLAYBACK = gql`
  query LessonPlayback($id: ID!) {
    lesson(id: $id) {
      ${LESSON_FIELDS}
      course {
        id
      }
      playback {
        hlsUrl
        mp4Url
        posterUrl
        expiresAt
      }
      myProgress {
        positionSeconds
        watchedSeconds
        completed
        completedAt
      }
    }
  }
`;

/** My learning: each enrolled course with the person's progress in it. */
export const MY_LEARNING_PROGRESS = gql`
  query MyLearningProgress {
    me {
      id
      enrolledCourses {
        id
        myProgress {
          completedLessons
          totalLessons
          percent
        }
      }
    }
  }
`;

export const CREATE_LESSON = gql`
  mutation CreateLesson($courseId: ID!, $title: String!) {
    createLesson(courseId: $courseId, title: $title) {
      ${LESSON_FIELDS}
    }
  }
`;

export const UPDATE_LESSON = gql`
  mutation UpdateLesson($id: ID!, $input: UpdateLessonInput!) {
    updateLesson(id: $id, input: $input) {
      ${LESSON_FIELDS}
    }
  }
`;

export const DELETE_LESSON = gql`
  mutation DeleteLesson($id: ID!) {
    deleteLesson(id: $id) {
      id
      courseId
      message
    }
  }
`;

export const MOVE_LESSON = gql`
  mutation MoveLesson($id: ID!, $position: Int!) {
    moveLesson(id: $id, position: $position) {
      ${LESSON_FIELDS}
    }
  }
`;

export const REQUEST_LESSON_UPLOAD = gql`
  mutation RequestLessonUpload($lessonId: ID!) {
    requestLessonUpload(lessonId: $lessonId) {
      uploadUrl
      token
      expiresAt
      maxBytes
    }
  }
`;

export const RETRANSCODE_LESSON = gql`
  mutation RetranscodeLesson($lessonId: ID!) {
    retranscodeLesson(lessonId: $lessonId) {
      ${LESSON_FIELDS}
    }
  }
`;

export const RECORD_LESSON_PROGRESS = gql`
  mutation RecordLessonProgress($lessonId: ID!, $positionSeconds: Float!, $watchedSeconds: Float!) {
    recordLessonProgress(lessonId: $lessonId, positionSeconds: $positionSeconds, watchedSeconds: $watchedSeconds) {
      positionSeconds
      watchedSeconds
      completed
      completedAt
    }
  }
`;

export const LESSON_UPDATED = gql`
  subscription LessonUpdated($courseId: ID!) {
    lessonUpdated(courseId: $courseId) {
      ${LESSON_FIELDS}
    }
  }
`;
